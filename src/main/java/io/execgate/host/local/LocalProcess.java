package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;
import io.execgate.host.BlockingThreads;
import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.Signal;

/**
 * A process on the local host, spawned by {@link PosixSpawner}. One pooled platform thread
 * ({@link BlockingThreads}) waits for it: first with
 * {@code WNOWAIT}, so the exited process stays a zombie and its pid cannot be reused while a signal is being
 * sent, then reaping it under the same lock the signal senders take.
 *
 * <p>The process leads its own session. Terminating it asks its process group to stop (a terminal's shell first
 * gets the hang-up a closed terminal would send); killing it, or its exit while it is being terminated, kills its
 * group, and on a terminal every process of its session ({@link Session}), whatever group a shell's job control put
 * them in. Only on a terminal: finding a session's processes reads all of {@code /proc}, and without job control
 * a command's processes stay in its group, so a thousand sessions ending at once do not read it a thousand times.
 */
final class LocalProcess implements HostProcess {

    private static final Libc LIBC = Libc.INSTANCE;

    private final int pid;
    private final ProcessIo io;
    private final boolean terminal;
    private final Clock clock;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final Object lock = new Object();
    private boolean reaped; // guarded by lock
    private boolean terminating; // guarded by lock: terminate() or kill() was called

    private LocalProcess(int pid, ProcessIo io, Clock clock) {
        this.pid = pid;
        this.io = io;
        this.terminal = io instanceof Terminal;
        this.clock = clock;
    }

    /** Starts waiting for a spawned process; from now on this object owns it and its streams. */
    static LocalProcess watch(int pid, ProcessIo io, Clock clock) {
        LocalProcess process = new LocalProcess(pid, io, clock);
        try {
            BlockingThreads.start("execgate-wait-" + pid, process::awaitExit);
        } catch (RuntimeException | Error e) {
            // No thread to wait for it: end the process here rather than leave it unwatched.
            process.killAndReapNow();
            throw e;
        }
        return process;
    }

    private void killAndReapNow() {
        synchronized (lock) {
            killSessionQuietly();
            try {
                retryOnInterrupt(() -> LIBC.waitpid(pid, new IntByReference(), 0));
            } catch (LastErrorException ignored) {
                // already gone
            }
            reaped = true;
        }
        close();
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return io.stdin();
    }

    @Override
    public Optional<InputStream> stdout() {
        return io.stdout();
    }

    @Override
    public Optional<InputStream> stderr() {
        return io.stderr();
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public void signal(Signal signal) throws IOException {
        send(pid, signal, false);
    }

    /**
     * SIGTERM to the process group. On a terminal the process first gets SIGHUP, as when a terminal hangs up: an
     * interactive shell ignores SIGTERM, and on SIGHUP it hangs up its jobs, which run in groups of their own.
     */
    @Override
    public void terminate() throws IOException {
        if (terminal) {
            send(pid, Signal.SIGHUP, true);
        }
        send(-pid, Signal.SIGTERM, true);
    }

    /**
     * SIGKILL to the group. The leader dies of it, and its waiter, seeing the process was being ended, kills the
     * rest of a terminal's session before reaping it: on the waiter's own thread, not the caller's (often the
     * exec timer's, which every exec's timeouts share), since that reads all of {@code /proc}.
     */
    @Override
    public void kill() throws IOException {
        send(-pid, Signal.SIGKILL, true);
    }

    /**
     * Sends a signal to the process ({@code target > 0}) or its process group ({@code target < 0});
     * {@code ending} marks the process as being terminated.
     */
    private void send(int target, Signal signal, boolean ending) throws IOException {
        synchronized (lock) {
            if (reaped) {
                return;
            }
            terminating |= ending;
            try {
                LIBC.kill(target, signal.number());
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Libc.ESRCH) {
                    throw new IOException("kill " + target + " " + signal.name() + ": " + LIBC.strerror(e.getErrorCode()), e);
                }
            }
        }
    }

    @Override
    public void resize(ConsoleSize size) throws IOException {
        io.resize(size);
    }

    @Override
    public void closeStdin() throws IOException {
        io.closeStdin();
    }

    @Override
    public void close() {
        io.close();
    }

    private void awaitExit() {
        try {
            Memory siginfo = new Memory(Libc.SIGINFO_SIZE);
            retryOnInterrupt(() -> LIBC.waitid(Libc.P_PID, pid, siginfo, Libc.WEXITED | Libc.WNOWAIT));
            IntByReference status = new IntByReference();
            synchronized (lock) {
                if (terminating) {
                    // Being terminated and the leader is gone: what is left of its session goes now, as when a
                    // container's init exits. The unreaped leader still holds the session id, so this is safe.
                    killSessionQuietly();
                }
                retryOnInterrupt(() -> LIBC.waitpid(pid, status, 0));
                reaped = true;
            }
            exit.complete(decode(status.getValue(), clock.instant()));
        } catch (LastErrorException e) {
            synchronized (lock) {
                reaped = true;
            }
            exit.complete(ExitStatus.lost("waiting for process " + pid + " failed: " + LIBC.strerror(e.getErrorCode()),
                    clock.instant()));
        } catch (RuntimeException | Error e) {
            exit.completeExceptionally(e);
            throw e;
        }
    }

    /** SIGKILL to the leader's group and, on a terminal, every process of its session; under the lock, before reaping. */
    private void killSessionQuietly() {
        try {
            LIBC.kill(-pid, Signal.SIGKILL.number());
        } catch (LastErrorException ignored) {
            // ESRCH: nothing left of the group
        }
        if (terminal) {
            Session.killAll(pid);
        }
    }

    /** Turns a {@code waitpid} status into an exit status, as the {@code WIFEXITED}/{@code WTERMSIG} macros do. */
    static ExitStatus decode(int status, Instant at) {
        int termsig = status & 0x7f;
        if (termsig == 0) {
            return ExitStatus.exited((status >> 8) & 0xff, at);
        }
        return ExitStatus.signaled(Signal.killedBy(termsig), at);
    }

    private interface Call {
        int run() throws LastErrorException;
    }

    private static void retryOnInterrupt(Call call) {
        while (true) {
            try {
                call.run();
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Libc.EINTR) {
                    throw e;
                }
            }
        }
    }
}
