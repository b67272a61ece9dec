package io.execgate.host.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VMs' private directories under {@code <data-dir>/uvm/}, one per VM: its agent socket and the pid of its
 * QEMU ({@code qemu.pid}). They live in the data directory, not in {@code /tmp}, so that the next start of the
 * service finds what a killed one left: {@link #sweep()} kills a QEMU that still runs (one only its own
 * directory's socket names, so a pid reused by another process is never killed) and removes the directory.
 */
final class UvmDirectories {

    private static final Logger log = LoggerFactory.getLogger(UvmDirectories.class);
    /** A UNIX socket's path, without its terminating NUL (sun_path has 108 bytes). */
    static final int MAX_SOCKET_PATH = 107;
    private static final String SOCKET = "agent.sock";
    private static final String PID_FILE = "qemu.pid";
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final Path root;
    private final SecureRandom random = new SecureRandom();

    UvmDirectories(Path dataDir) {
        this.root = dataDir.resolve("uvm").toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    /** The agent's socket in a VM's directory. */
    static Path socket(Path dir) {
        return dir.resolve(SOCKET);
    }

    /**
     * Makes a new VM directory (mode 0700, under a root of mode 0700). Its name is 8 random hex digits, short on
     * purpose: the socket's whole path must fit in 107 bytes.
     *
     * @throws IOException naming the path and the limit when the socket's path would not fit, or when the
     *                     directory cannot be made
     */
    Path create() throws IOException {
        byte[] name = new byte[4];
        random.nextBytes(name);
        Path dir = root.resolve(HexFormat.of().formatHex(name));
        int length = socket(dir).toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_SOCKET_PATH) {
            throw new IOException("the UVM's agent socket " + socket(dir) + " would take " + length + " bytes, more "
                    + "than the " + MAX_SOCKET_PATH + " a UNIX socket's path may have: give execgate.data-dir a path of at "
                    + "most " + (MAX_SOCKET_PATH - (length - root.getParent().toString().length())) + " bytes");
        }
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return Files.createDirectory(dir,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Notes the QEMU serving this directory's socket, for the sweep after a crash. */
    static void recordPid(Path dir, long pid) throws IOException {
        Files.writeString(dir.resolve(PID_FILE), Long.toString(pid));
    }

    /**
     * Removes a VM directory and what is in it. Two threads may do so at once (QEMU's exit and a DELETE that
     * waited for it): what the other removed first is not an error.
     */
    static void remove(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // removed by the other remover (or never made)
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, @Nullable IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * At start, before any VM exists: every directory under the root was left by a service that did not stop
     * its VMs (a SIGKILL, the OOM killer, a power cut). A QEMU still running for it gets SIGKILL; then it goes.
     */
    void sweep() {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                Optional<ProcessHandle> qemu = runningQemu(dir);
                if (qemu.isPresent()) {
                    log.warn("killing QEMU {} of a UVM an earlier execgate left running ({})", qemu.get().pid(), dir);
                    qemu.get().destroyForcibly();
                    try {
                        qemu.get().onExit().get(KILL_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                        log.warn("QEMU {} is still there {} after SIGKILL", qemu.get().pid(), KILL_WAIT);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                log.info("removing {}, the directory of a UVM an earlier execgate left behind", dir);
                remove(dir);
            }
        } catch (IOException e) {
            log.warn("cleaning up {} failed: {}", root, e.getMessage());
        }
    }

    /**
     * The QEMU whose pid the directory records, if that process still runs and its command line names this
     * directory's socket (what QEMU was started with); empty for a pid that ended or was reused since.
     */
    static Optional<ProcessHandle> runningQemu(Path dir) {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve(PID_FILE)).strip());
            // The handle first: it holds the process's start time, so the kill cannot reach a process that takes
            // the pid after the command line below was read.
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String chardev = "path=" + socket(dir) + ",";
            for (String arg : new String(cmdline, StandardCharsets.UTF_8).split("\0")) {
                if (arg.contains(chardev)) {
                    return handle;
                }
            }
        } catch (IOException | NumberFormatException gone) {
            // no pid recorded (QEMU never started), or no such process
        }
        return Optional.empty();
    }
}
