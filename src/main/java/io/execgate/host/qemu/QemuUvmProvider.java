package io.execgate.host.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

import io.execgate.DataDirectory;
import io.execgate.host.BackendStatus;
import io.execgate.host.ProcessHost;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import io.execgate.host.UvmLifecycle;
import io.execgate.host.local.LocalProcesses;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UVMs execgate boots itself with QEMU, as targets of kind {@code uvm} and through their lifecycle. Available
 * when QEMU and the image ({@code vmlinuz}, {@code initrd.img} in the image directory) are found; otherwise its
 * status names the missing piece. At most {@code max-uvms} exist; each boots on a thread of its own, and the
 * service's shutdown stops them all. QEMU is started through {@code setpriv --pdeathsig KILL} so that it dies
 * with the service, and at start the provider removes what an earlier service that was killed left under
 * {@code <data-dir>/uvm/}.
 */
final class QemuUvmProvider implements TargetProvider, UvmLifecycle, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(QemuUvmProvider.class);
    private static final Pattern ID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}");
    private static final int MIN_MEMORY_MIB = 128;
    private static final int MAX_MEMORY_MIB = 16384;
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);

    private final QemuProperties properties;
    private final BackendStatus status;
    private final @Nullable Path binary;
    private final QemuCommandLine.Choice choice;
    private final UvmDirectories directories;
    private final @Nullable Path setpriv;
    private final Clock clock = Clock.systemUTC();
    private final SecureRandom random = new SecureRandom();
    /** Every VM until its stop has returned: one being deleted still holds its id and its place under max-uvms. */
    private final Map<String, Uvm> uvms = new LinkedHashMap<>(); // guarded by this
    /** The ids of VMs being deleted: no longer listed, found or usable. */
    private final Set<String> deleting = new HashSet<>(); // guarded by this
    private boolean closed; // guarded by this

    QemuUvmProvider(QemuProperties properties, DataDirectory data) {
        this.properties = properties;
        this.directories = new UvmDirectories(data.path());
        boolean kvm = QemuCommandLine.kvmUsable(Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
        OptionalLong tsc = QemuCommandLine.hostTscKhz(Path.of("/proc/cpuinfo"));
        this.choice = QemuCommandLine.choose(properties.machine(), kvm, tsc);
        Path found = null;
        String detail;
        if (!properties.enabled()) {
            detail = "disabled by execgate.backends.qemu.enabled";
        } else if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            detail = "QEMU UVMs run on Linux hosts only";
        } else if ((found = LocalProcesses.locate(properties.binary()).orElse(null)) == null) {
            detail = properties.binary() + " not found (apt-get install qemu-system-x86)";
        } else {
            List<String> missing = new ArrayList<>();
            for (String file : List.of("vmlinuz", "initrd.img")) {
                if (!Files.isRegularFile(properties.imageDir().resolve(file))) {
                    missing.add(file);
                }
            }
            detail = missing.isEmpty()
                    ? found + ", " + choice.machine() + " with " + choice.accel() + ", image "
                            + properties.imageDir().toAbsolutePath()
                    : "no UVM image in " + properties.imageDir().toAbsolutePath() + " (missing " + String.join(", ", missing)
                            + "): run uvm/build-image " + properties.imageDir();
            if (!missing.isEmpty()) {
                found = null;
            }
        }
        this.binary = found;
        this.status = new BackendStatus("qemu", TargetKind.UVM, found != null, detail);
        this.setpriv = found != null ? LocalProcesses.locate("setpriv").orElse(null) : null;
        if (found != null && setpriv == null) {
            log.warn("setpriv (util-linux) not found: QEMU is started without a parent-death signal, so UVMs outlive "
                    + "a service that is killed (the next start on this data directory stops them)");
        }
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            directories.sweep(); // whatever an earlier, killed service left running, even if QEMU is off now
        }
    }

    @Override
    public TargetKind kind() {
        return TargetKind.UVM;
    }

    @Override
    public BackendStatus status() {
        return status;
    }

    @Override
    public synchronized List<TargetInfo> list() {
        return uvms.values().stream().filter(uvm -> !deleting.contains(uvm.id())).map(Uvm::info).toList();
    }

    @Override
    public synchronized Optional<TargetInfo> describe(String id) {
        return live(id).map(Uvm::info);
    }

    @Override
    public synchronized Optional<ProcessHost> open(String id) {
        return live(id).map(uvm -> new QemuProcessHost(uvm, properties.bootTimeout(), properties.startTimeout()));
    }

    /** A VM that exists and is not being deleted: once DELETE was called, a VM is gone for clients. */
    private Optional<Uvm> live(String id) {
        assert Thread.holdsLock(this);
        return deleting.contains(id) ? Optional.empty() : Optional.ofNullable(uvms.get(id));
    }

    @Override
    public TargetInfo create(@Nullable String requestedId, @Nullable Integer memoryMiB, @Nullable Integer cpus) {
        if (binary == null) {
            throw new Refusal(Refusal.Kind.UNAVAILABLE, null, "QEMU UVMs are unavailable here: " + status.detail());
        }
        if (requestedId != null && !ID.matcher(requestedId).matches()) {
            throw new Refusal(Refusal.Kind.INVALID, "id", "must be 1 to 63 letters, digits, '_', '.' or '-', starting "
                    + "with a letter or digit");
        }
        long memory = memoryMiB != null ? memoryMiB : properties.memory().toMegabytes();
        if (memory < MIN_MEMORY_MIB || memory > MAX_MEMORY_MIB) {
            throw new Refusal(Refusal.Kind.INVALID, "memoryMiB", "must be between " + MIN_MEMORY_MIB + " and "
                    + MAX_MEMORY_MIB);
        }
        int vcpus = cpus != null ? cpus : properties.cpus();
        if (vcpus < 1 || vcpus > 16) {
            throw new Refusal(Refusal.Kind.INVALID, "cpus", "must be between 1 and 16");
        }
        Uvm uvm;
        synchronized (this) {
            if (closed) {
                throw new Refusal(Refusal.Kind.UNAVAILABLE, null, "execgate is shutting down");
            }
            String id = requestedId != null ? requestedId : "uvm-" + HexFormat.of().formatHex(randomBytes());
            if (uvms.containsKey(id)) {
                throw new Refusal(Refusal.Kind.CONFLICT, "id", "a UVM with the id " + id
                        + (deleting.contains(id) ? " is still being deleted" : " exists"));
            }
            if (uvms.size() >= properties.maxUvms()) {
                // A VM being deleted counts until its QEMU is gone: it still holds its memory.
                throw new Refusal(Refusal.Kind.LIMIT, null, uvms.size() + " UVMs exist" + (deleting.isEmpty() ? ""
                        : " (" + deleting.size() + " of them still being deleted)") + ", the most allowed "
                        + "(execgate.backends.qemu.max-uvms)");
            }
            Path dir;
            try {
                dir = directories.create();
            } catch (IOException e) {
                throw new Refusal(Refusal.Kind.UNAVAILABLE, null, "cannot make the UVM's directory: " + e.getMessage());
            }
            uvm = new Uvm(id, memory, vcpus, choice, dir, (int) properties.consoleLogSize().toBytes(), clock);
            uvms.put(id, uvm);
        }
        Path image = properties.imageDir();
        // A platform thread that boots the VM and then stays until QEMU exits: QEMU's parent-death signal fires
        // when the thread that spawned it ends.
        Thread.ofPlatform().daemon().name("uvm-" + uvm.id() + "-qemu").start(() -> uvm.boot(binary, setpriv,
                image.resolve("vmlinuz").toAbsolutePath(), image.resolve("initrd.img").toAbsolutePath(),
                properties.bootTimeout(), properties.keepalive()));
        return uvm.info();
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[4];
        random.nextBytes(bytes);
        return bytes;
    }

    @Override
    public boolean delete(String id) {
        Uvm uvm;
        synchronized (this) {
            uvm = live(id).orElse(null);
            if (uvm == null) {
                return false; // unknown, or already being deleted
            }
            deleting.add(id);
        }
        try {
            uvm.stop(properties.stopGracePeriod());
        } finally {
            synchronized (this) {
                uvms.remove(id, uvm);
                deleting.remove(id);
            }
        }
        return true;
    }

    @Override
    public synchronized Optional<byte[]> console(String id) {
        return live(id).map(Uvm::console);
    }

    /** Stops every UVM (the service is going away), each with a short grace. */
    @Override
    public void close() {
        List<Uvm> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(uvms.values());
            uvms.clear();
        }
        if (!all.isEmpty()) {
            log.info("stopping {} UVMs", all.size());
        }
        List<Thread> stopping = all.stream()
                .map(uvm -> Thread.ofVirtual().name("uvm-" + uvm.id() + "-stop").start(() -> uvm.stop(SHUTDOWN_GRACE)))
                .toList();
        for (Thread thread : stopping) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
