package io.execgate.host.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;
import org.jspecify.annotations.Nullable;

/**
 * Spawns a process with {@code posix_spawn}: its own session (so its process group can be signalled as one),
 * default signal dispositions and an empty signal mask, every descriptor above 2 closed, and the requested
 * standard streams as pipes. The parent's pipe ends come back as {@link PipeStdin} and {@link OutputPipe}s, both on
 * {@link FileChannel}s, which (unlike {@code FileInputStream}) wake a thread blocked in {@code read} or {@code write}
 * when another thread closes them.
 */
final class PosixSpawner {

    private static final Libc LIBC = Libc.INSTANCE;

    private PosixSpawner() {
    }

    /** A spawned process and the parent's ends of its pipes (null where the spec did not ask for one). */
    record Spawned(int pid, @Nullable PipeStdin stdin, @Nullable OutputPipe stdout, @Nullable OutputPipe stderr) {
    }

    /** {@code posix_spawn} failed; {@link #errno()} is what the child's {@code chdir} or {@code execve} said. */
    static final class SpawnException extends IOException {
        private final int errno;

        SpawnException(int errno, String message) {
            super(message);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    /**
     * Spawns with pipes for the streams asked for and {@code /dev/null} for the others. With an {@code owner} (the
     * user the command will switch to), the pipes are that user's, as runc hands a container process its stdio:
     * otherwise the command could not open its own {@code /dev/stdout} (the pipe's mode is owner-only).
     */
    static Spawned spawn(String path, List<String> argv, List<String> env, String workingDir, boolean stdin,
            boolean stdout, boolean stderr, @Nullable Credentials owner) throws IOException {
        return spawn(path, argv, env, workingDir, stdin, stdout, stderr, null, owner);
    }

    /**
     * Spawns on a terminal: the process opens {@code slavePath} as its stdin, stdout and stderr. It leads a new
     * session, so the first terminal it opens becomes its controlling terminal (glibc runs {@code setsid}
     * before the file actions).
     */
    static int spawnOnTerminal(String path, List<String> argv, List<String> env, String workingDir, String slavePath)
            throws IOException {
        return spawn(path, argv, env, workingDir, false, false, false, slavePath, null).pid();
    }

    private static Spawned spawn(String path, List<String> argv, List<String> env, String workingDir, boolean stdin,
            boolean stdout, boolean stderr, @Nullable String terminal, @Nullable Credentials owner) throws IOException {
        List<Integer> rawFds = new ArrayList<>();
        List<AutoCloseable> channels = new ArrayList<>();
        Memory actions = new Memory(Libc.FILE_ACTIONS_SIZE);
        Memory attributes = new Memory(Libc.SPAWNATTR_SIZE);
        actions.clear();
        attributes.clear();
        check(LIBC.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try {
            check(LIBC.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            try {
                PipeStdin in = null;
                OutputPipe out = null;
                OutputPipe err = null;
                if (terminal != null) {
                    check(LIBC.posix_spawn_file_actions_addopen(actions, 0, terminal, Libc.O_RDWR, 0), "addopen");
                    check(LIBC.posix_spawn_file_actions_adddup2(actions, 0, 1), "adddup2");
                    check(LIBC.posix_spawn_file_actions_adddup2(actions, 0, 2), "adddup2");
                } else {
                    FileChannel input = stream(actions, 0, stdin, false, owner, rawFds, channels);
                    if (input != null) {
                        // stream() noted the pipe's read end, then its write end: the parent's end here
                        in = new PipeStdin(input, noWaitDescriptor(rawFds.getLast()));
                        channels.add(in);
                    }
                    out = output(stream(actions, 1, stdout, true, owner, rawFds, channels), rawFds, channels);
                    err = output(stream(actions, 2, stderr, true, owner, rawFds, channels), rawFds, channels);
                }
                check(LIBC.posix_spawn_file_actions_addchdir_np(actions, workingDir), "addchdir");
                check(LIBC.posix_spawn_file_actions_addclosefrom_np(actions, 3), "addclosefrom");
                Memory none = new Memory(Libc.SIGSET_SIZE);
                Memory all = new Memory(Libc.SIGSET_SIZE);
                LIBC.sigemptyset(none);
                LIBC.sigfillset(all);
                check(LIBC.posix_spawnattr_setsigmask(attributes, none), "setsigmask");
                check(LIBC.posix_spawnattr_setsigdefault(attributes, all), "setsigdefault");
                check(LIBC.posix_spawnattr_setflags(attributes, (short) (Libc.POSIX_SPAWN_SETSID
                        | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF)), "setflags");
                IntByReference pid = new IntByReference();
                int rc = LIBC.posix_spawn(pid, path, actions, attributes, argv.toArray(String[]::new),
                        env.toArray(String[]::new));
                if (rc != 0) {
                    throw new SpawnException(rc, LIBC.strerror(rc));
                }
                return new Spawned(pid.getValue(), in, out, err);
            } catch (IOException | RuntimeException e) {
                for (AutoCloseable channel : channels) {
                    closeQuietly(channel);
                }
                throw e;
            } finally {
                LIBC.posix_spawnattr_destroy(attributes);
            }
        } finally {
            LIBC.posix_spawn_file_actions_destroy(actions);
            // The child has its own copies now (or never came to be); the parent keeps only its channels.
            for (int fd : rawFds) {
                try {
                    LIBC.close(fd);
                } catch (LastErrorException ignored) {
                    // nothing useful to do about a failed close of our own descriptor
                }
            }
        }
    }

    /**
     * Adds the file action for one standard stream and returns the parent's end: a pipe when wanted,
     * {@code /dev/null} in the child otherwise.
     */
    private static @Nullable FileChannel stream(Memory actions, int target, boolean wanted, boolean childWrites,
            @Nullable Credentials owner, List<Integer> rawFds, List<AutoCloseable> channels) throws IOException {
        if (!wanted) {
            int flags = childWrites ? Libc.O_WRONLY : Libc.O_RDONLY;
            check(LIBC.posix_spawn_file_actions_addopen(actions, target, "/dev/null", flags, 0), "addopen");
            return null;
        }
        int[] fds = new int[2];
        try {
            LIBC.pipe2(fds, Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("pipe2: " + LIBC.strerror(e.getErrorCode()), e);
        }
        rawFds.add(fds[0]);
        rawFds.add(fds[1]);
        int childEnd = childWrites ? fds[1] : fds[0];
        int parentEnd = childWrites ? fds[0] : fds[1];
        if (owner != null) {
            // A pipe is one inode for both ends; its mode stays owner-only, so only the parent and the command may
            // open it again through /proc.
            try {
                LIBC.fchown(childEnd, owner.uid(), owner.gid());
            } catch (LastErrorException e) {
                throw new IOException("fchown of the stdio pipe: " + LIBC.strerror(e.getErrorCode()), e);
            }
        }
        // Reopening through /proc gives the JDK a descriptor it owns; both ends are open, so this never blocks.
        FileChannel channel = FileChannel.open(Path.of("/proc/self/fd/" + parentEnd),
                childWrites ? StandardOpenOption.READ : StandardOpenOption.WRITE);
        channels.add(channel);
        check(LIBC.posix_spawn_file_actions_adddup2(actions, childEnd, target), "adddup2");
        return channel;
    }

    /** The parent's end of an output pipe (noted last by {@link #stream}) as an {@link OutputPipe}, or null. */
    private static @Nullable OutputPipe output(@Nullable FileChannel readEnd, List<Integer> rawFds,
            List<AutoCloseable> channels) throws IOException {
        if (readEnd == null) {
            return null;
        }
        // it only ever sizes the pipe; the write end is still open here, so opening the read end does not wait
        int sizing = reopen(rawFds.get(rawFds.size() - 2), Libc.O_RDONLY, "open the output pipe for sizing");
        OutputPipe pipe = new OutputPipe(readEnd, sizing);
        channels.remove(readEnd);
        channels.add(pipe);
        return pipe;
    }

    /**
     * A second, non-blocking descriptor of a pipe's write end, for {@link PipeStdin#writeWithoutWaiting}. Opened
     * through {@code /proc} it is an open file description of its own, so {@code O_NONBLOCK} leaves the channel's
     * writes blocking; close-on-exec keeps it out of every child.
     */
    private static int noWaitDescriptor(int writeEnd) throws IOException {
        return reopen(writeEnd, Libc.O_WRONLY | Libc.O_NONBLOCK, "open stdin without waiting");
    }

    /** Opens a descriptor through {@code /proc}: an open file description of its own, close-on-exec. */
    private static int reopen(int fd, int flags, String what) throws IOException {
        try {
            return LIBC.open("/proc/self/fd/" + fd, flags | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException(what + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
    }

    private static void check(int rc, String what) throws IOException {
        if (rc != 0) {
            throw new IOException(what + ": " + LIBC.strerror(rc));
        }
    }

    static void closeQuietly(@Nullable AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // closing a pipe end cannot fail in a way the caller could act on
            }
        }
    }
}
