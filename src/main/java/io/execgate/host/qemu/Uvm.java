package io.execgate.host.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.host.local.LocalProcesses;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One utility VM: its QEMU process, its serial console, its agent connection and its state
 * ({@code booting → running → stopped | failed}). It boots on a platform thread of its own, which then stays until
 * QEMU exits (QEMU's parent-death signal is tied to it); a QEMU that exits, or an agent that goes silent, fails it
 * and ends its execs as lost. Stopping powers the guest off, kills QEMU after the grace period, and removes the
 * VM's private directory (its agent socket and QEMU's pid) under {@code <data-dir>/uvm/}.
 */
final class Uvm {

    private static final Logger log = LoggerFactory.getLogger(Uvm.class);

    /** QEMU needs nothing from its environment; the service's own (its secrets) is not passed on. */
    private static final List<String> QEMU_ENV = List.of("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    /** How long a stop waits for the boot thread's start of QEMU: a spawn takes milliseconds. */
    private static final Duration SPAWN_WAIT = Duration.ofSeconds(10);

    enum State {
        BOOTING, RUNNING, STOPPED, FAILED;

        String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String id;
    private final long memoryMiB;
    private final int cpus;
    private final QemuCommandLine.Choice choice;
    private final Instant createdAt;
    private final Path dir;
    private final ConsoleLog console;
    private final Clock clock;
    private final CompletableFuture<AgentConnection> ready = new CompletableFuture<>();
    /** Done once the boot thread has tried to start QEMU, whether it did or not. */
    private final CountDownLatch spawnTried = new CountDownLatch(1);
    private final Object lock = new Object();
    private State state = State.BOOTING; // guarded by lock
    private @Nullable Long bootMillis; // guarded by lock
    private @Nullable String error; // guarded by lock
    private boolean stopping; // guarded by lock
    private @Nullable HostProcess qemu; // guarded by lock

    /** @param dir the VM's private directory, made by {@link UvmDirectories#create()}; removed when the VM ends */
    Uvm(String id, long memoryMiB, int cpus, QemuCommandLine.Choice choice, Path dir, int consoleLogSize, Clock clock) {
        this.id = id;
        this.memoryMiB = memoryMiB;
        this.cpus = cpus;
        this.choice = choice;
        this.clock = clock;
        this.createdAt = clock.instant();
        this.console = new ConsoleLog(consoleLogSize);
        this.dir = dir;
    }

    String id() {
        return id;
    }

    /**
     * Starts QEMU and waits for the agent, on the calling thread (the outcome is in the state); then waits, still
     * on that thread, until QEMU has exited.
     *
     * @param setpriv util-linux's setpriv, to start QEMU with a parent-death signal; null starts it plainly
     */
    void boot(Path binary, @Nullable Path setpriv, Path kernel, Path initrd, Duration bootTimeout, Duration keepalive) {
        HostProcess process = start(binary, setpriv, kernel, initrd, bootTimeout, keepalive);
        if (process != null) {
            // The kernel sends QEMU its parent-death signal when the thread that spawned it ends, not only when the
            // service does: this thread must outlive QEMU, which fail() and stop() always end.
            awaitExit(process);
        }
    }

    private @Nullable HostProcess start(Path binary, @Nullable Path setpriv, Path kernel, Path initrd,
            Duration bootTimeout, Duration keepalive) {
        long began = System.nanoTime();
        Path socket = UvmDirectories.socket(dir);
        HostProcess process;
        try {
            List<String> qemuCommand = QemuCommandLine.build(binary.toString(), choice, kernel, initrd, memoryMiB,
                    cpus, socket);
            List<String> command = setpriv != null ? QemuCommandLine.dyingWithTheService(setpriv, qemuCommand)
                    : qemuCommand;
            // The project's own spawner: QEMU leads a session of its own, its stdin reads end-of-file, and its
            // serial console (stdout) and its complaints (stderr) both go to the console log.
            process = LocalProcesses.start(command.getFirst(), new ProcessSpec(command, QEMU_ENV, null, null,
                    false, null, false, true, true), clock);
        } catch (IOException | RuntimeException e) {
            fail("boot failed: " + e.getMessage());
            spawnTried.countDown();
            return null;
        }
        try {
            try {
                synchronized (lock) {
                    qemu = process;
                    if (stopping) {
                        kill(process);
                    }
                }
            } finally {
                spawnTried.countDown();
            }
            // The console readers (which close QEMU's output pipes at their end) and the exit's clean-up first: a
            // failure below kills QEMU, and its pipes and directory must still go.
            for (InputStream output : List.of(process.stdout().orElseThrow(), process.stderr().orElseThrow())) {
                Thread.ofPlatform().daemon().name("uvm-" + id + "-console").start(() -> console.copy(output));
            }
            process.onExit().thenRun(() -> qemuExited(process));
            UvmDirectories.recordPid(dir, process.pid()); // setpriv executes QEMU: the pid stays QEMU's
            SocketChannel channel = connect(socket, process, began + bootTimeout.toNanos());
            Duration left = Duration.ofNanos(Math.max(1, began + bootTimeout.toNanos() - System.nanoTime()));
            AgentConnection agent = AgentConnection.open("uvm-" + id, channel, channel, channel, left, keepalive, clock);
            // Off the connection's reader thread: agentEnded may wait for QEMU's exit.
            agent.ended().thenAcceptAsync(this::agentEnded, task -> Thread.ofVirtual().start(task));
            synchronized (lock) {
                if (state != State.BOOTING) {
                    agent.close();
                    return process;
                }
                state = State.RUNNING;
                bootMillis = Duration.ofNanos(System.nanoTime() - began).toMillis();
            }
            log.info("uvm {} is running ({} {}, {} MiB, {} cpu): kernel {} in {} ms", id, choice.machine(),
                    choice.accel(), memoryMiB, cpus, agent.release(), bootMillis);
            ready.complete(agent);
        } catch (IOException | RuntimeException e) {
            fail("boot failed: " + e.getMessage());
        }
        return process;
    }

    /** Waits for QEMU's exit, however long: an interrupt must not end this thread while QEMU runs. */
    private static void awaitExit(HostProcess process) {
        boolean interrupted = false;
        while (true) {
            try {
                process.onExit().get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (java.util.concurrent.ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private SocketChannel connect(Path socket, HostProcess process, long deadline) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        while (true) {
            if (process.onExit().isDone()) {
                throw new IOException("QEMU exited with code " + exitCode(process) + consoleTail());
            }
            if (Files.exists(socket)) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    channel.connect(address);
                    return channel;
                } catch (IOException notYet) {
                    channel.close();
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("QEMU made no agent socket in time");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while booting", e);
            }
        }
    }

    /** The agent, once the VM runs; waits while it boots. */
    AgentConnection awaitAgent(Duration within) throws IOException {
        try {
            return ready.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("the UVM did not finish booting within " + within);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void qemuExited(HostProcess process) {
        String why = "QEMU exited with code " + exitCode(process);
        boolean expected;
        synchronized (lock) {
            expected = stopping;
        }
        if (expected) {
            markStopped();
        } else {
            fail(why + consoleTail());
        }
        ready.thenAccept(AgentConnection::close);
        cleanUp();
    }

    private void agentEnded(String why) {
        boolean expected;
        synchronized (lock) {
            expected = stopping;
        }
        if (expected) {
            return;
        }
        HostProcess process = process();
        // The channel usually ends because QEMU did: then that is the reason to report.
        if (process != null && exitsWithin(process, Duration.ofSeconds(2))) {
            fail("QEMU exited with code " + exitCode(process) + consoleTail());
            return;
        }
        fail(why);
        if (process != null) {
            kill(process); // a VM whose agent is gone can run nothing: it goes
        }
    }

    private void fail(String why) {
        synchronized (lock) {
            if (state == State.STOPPED || state == State.FAILED) {
                return;
            }
            state = State.FAILED;
            error = why;
        }
        log.warn("uvm {} failed: {}", id, why);
        ready.completeExceptionally(new IOException("the UVM failed: " + why));
        ready.thenAccept(AgentConnection::close);
        HostProcess process = process();
        if (process != null && !process.onExit().isDone()) {
            kill(process);
        }
    }

    private void markStopped() {
        synchronized (lock) {
            if (state != State.FAILED) {
                state = State.STOPPED;
            }
        }
        ready.completeExceptionally(new IOException("the UVM was stopped"));
    }

    /**
     * Powers the VM off: the agent is asked to power off, QEMU gets SIGTERM after the grace period and SIGKILL
     * soon after. Returns once QEMU is gone and the VM's directory removed.
     */
    void stop(Duration grace) {
        synchronized (lock) {
            stopping = true;
        }
        // A stop that comes before the boot thread has started QEMU waits for that start (which kills the QEMU it
        // made at once, seeing the stop): returning sooner would free the VM's place while its QEMU still runs.
        try {
            if (!spawnTried.await(SPAWN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("uvm {}: its boot thread did not start QEMU within {}", id, SPAWN_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        HostProcess process;
        synchronized (lock) {
            process = qemu;
        }
        AgentConnection agent = ready.isDone() && !ready.isCompletedExceptionally() ? ready.join() : null;
        if (agent != null) {
            // Asked on a thread of its own: a wedged guest must not keep QEMU from being killed after the grace.
            Thread.ofVirtual().name("uvm-" + id + "-poweroff").start(agent::powerOff);
        }
        if (process != null && !exitsWithin(process, agent != null ? grace : Duration.ZERO)) {
            try {
                process.terminate();
            } catch (IOException e) {
                log.debug("uvm {}: SIGTERM to QEMU failed: {}", id, e.getMessage());
            }
            if (!exitsWithin(process, Duration.ofSeconds(2))) {
                kill(process);
                exitsWithin(process, Duration.ofSeconds(10));
            }
        }
        if (agent != null) {
            agent.close();
        }
        markStopped();
        cleanUp();
    }

    private void cleanUp() {
        try {
            UvmDirectories.remove(dir);
        } catch (IOException | RuntimeException e) {
            log.debug("uvm {}: removing {} failed: {}", id, dir, e.getMessage());
        }
    }

    /** True once the process has exited, waiting at most {@code within}. */
    private static boolean exitsWithin(HostProcess process, Duration within) {
        try {
            process.onExit().get(within.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return process.onExit().isDone();
        }
    }

    private static @Nullable Integer exitCode(HostProcess process) {
        return process.onExit().join().exitCode();
    }

    private void kill(HostProcess process) {
        try {
            process.kill();
        } catch (IOException e) {
            log.debug("uvm {}: SIGKILL to QEMU failed: {}", id, e.getMessage());
        }
    }

    private @Nullable HostProcess process() {
        synchronized (lock) {
            return qemu;
        }
    }

    /** The QEMU process's pid on the host, once it started. */
    @Nullable Long pid() {
        HostProcess process = process();
        return process == null ? null : process.pid();
    }

    State state() {
        synchronized (lock) {
            return state;
        }
    }

    byte[] console() {
        return console.snapshot();
    }

    private String consoleTail() {
        String text = new String(console.snapshot(), java.nio.charset.StandardCharsets.UTF_8).strip();
        int from = Math.max(0, text.length() - 400);
        return text.isEmpty() ? "" : "; the console ends with: " + text.substring(from);
    }

    TargetInfo info() {
        synchronized (lock) {
            return new TargetInfo(new TargetRef(TargetKind.UVM, id), "qemu", state.value(), pid(), createdAt,
                    Map.of("machine", choice.machine()), null,
                    new TargetInfo.UvmDetails(choice.accel(), (int) memoryMiB, cpus, bootMillis, error));
        }
    }
}
