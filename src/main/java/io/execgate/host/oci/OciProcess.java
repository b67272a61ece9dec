package io.execgate.host.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import io.execgate.host.BlockingThreads;
import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.local.Libc;
import io.execgate.host.local.PidFd;
import io.execgate.host.local.Session;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process in a container: the runtime's {@code exec} runs in the foreground as the service's child and relays
 * the streams (and the terminal); signals go straight to the process the runtime started, by its pidfd, because
 * a runtime killed with SIGKILL leaves that process running.
 *
 * <p>runc exits only when every process holding the exec's output has let it go. So when the command has exited
 * and background processes it left still hold the output after {@code outputGrace}, what is left of its process
 * group is killed and runc reports the command's code; the runtime itself goes after another grace, when
 * something outside the group holds on.
 */
final class OciProcess implements HostProcess {

    private static final Logger log = LoggerFactory.getLogger(OciProcess.class);
    private static final Libc LIBC = Libc.INSTANCE;
    /** How long a SIGKILLed process may take to go before the runtime is killed instead (a paused container). */
    private static final Duration KILL_PATIENCE = Duration.ofSeconds(2);
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;

    /** What the process is part of. */
    record Context(String containerId, long containerInitPid, boolean tty, boolean runtimeForwardsResize,
            Duration outputGrace, BooleanSupplier containerRuns) {
    }

    private final HostProcess runtime;
    private final long pid;
    private final @Nullable PidFd pidfd;
    private final Context context;
    private final CompletableFuture<ExitStatus> exit;
    /** The last signal execgate delivered: a code of 128 + its number is then its doing, not a plain exit. */
    private volatile @Nullable Signal delivered;
    private volatile boolean runtimeKilled;
    /** Whether ending it sent the SIGHUP of a terminal's hangup, which a shell dies of before the SIGTERM that follows. */
    private volatile boolean hungUp;
    /**
     * On a terminal, the processes of the session being terminated, held by pidfd from while the leader lived (its
     * id then named this session only): an interactive shell runs each job in a group of its own, which the
     * group's signals miss. Ended with the leader, as when a container's init exits.
     */
    private final List<PidFd> session = new ArrayList<>(); // guarded by itself

    OciProcess(HostProcess runtime, long pid, @Nullable PidFd pidfd, ExecFiles files, Context context) {
        this.runtime = runtime;
        this.pid = pid;
        this.pidfd = pidfd;
        this.context = context;
        this.exit = runtime.onExit().handle((status, error) -> {
            try {
                return translate(status, error, files);
            } finally {
                // The runtime is gone, so its process is: what is left of a session being ended goes too (if the
                // leader's follower has not done it yet), and the pidfds held on it are let go.
                signalSession(Signal.SIGKILL);
                releaseSession();
                if (pidfd != null) {
                    pidfd.close();
                }
                files.delete();
            }
        });
        // Waits on a platform thread of its own: for the pidfd, then out the graces (it scans /proc and kills).
        BlockingThreads.start("oci-exec-" + pid, this::followLeader);
    }

    /** The runtime's exit, read as a shell reads a code: 128 + n is signal n when execgate delivered it. */
    private ExitStatus translate(@Nullable ExitStatus runtimeStatus, @Nullable Throwable error, ExecFiles files) {
        Instant at = runtimeStatus != null ? runtimeStatus.at() : Instant.now();
        if (runtimeStatus == null || runtimeStatus.signal() != null || runtimeStatus.exitCode() == null) {
            Signal sent = delivered;
            if (runtimeKilled && sent != null) {
                return ExitStatus.signaled(sent, at); // execgate ended the runtime after the process (see kill)
            }
            signalQuietly(Signal.SIGKILL); // nothing may run on unwatched
            String why = runtimeStatus == null ? "could not be waited for: " + error
                    : runtimeStatus.signal() != null ? "died of " + runtimeStatus.signal() : "was lost: " + runtimeStatus.error();
            return ExitStatus.lost("the runtime " + why + "; the process in container " + context.containerId()
                    + " was killed", at);
        }
        int code = runtimeStatus.exitCode();
        Optional<String> runtimeError = files.readError();
        StartFailure.Kind kind = runtimeError.map(RuntimeErrors::kind).orElse(null);
        if (code != 0 && kind != null && kind.shellExitCode() != null) {
            // crun reports a failed execve (a missing interpreter, a bad format) after it wrote the pid file. Other
            // lines crun logs (it sometimes flushes the process's own last output there) are not start failures.
            return new ExitStatus(kind.shellExitCode(), null, ExitReason.START_FAILED, at, runtimeError.get());
        }
        Signal sent = delivered;
        if (sent != null && code == 128 + sent.number()) {
            return ExitStatus.signaled(sent, at);
        }
        if (hungUp && code == 128 + Signal.SIGHUP.number()) {
            return ExitStatus.signaled(Signal.SIGHUP, at); // ended as a terminal's hangup ends a shell
        }
        if (code > 128 && !context.containerRuns().getAsBoolean()) {
            return new ExitStatus(code, null, ExitReason.LOST, at,
                    "container " + context.containerId() + " stopped while the exec ran");
        }
        return ExitStatus.exited(code, at);
    }

    /** Once the command has exited, gives its background processes the output grace, then ends them. */
    private void followLeader() {
        try {
            // Without a pidfd the process ran and went before it could be followed: what it left is treated the same.
            boolean exited = pidfd == null || pidfd.awaitExit();
            // Being terminated and the leader is gone: what is left of its session goes now.
            signalSession(Signal.SIGKILL);
            releaseSession();
            if (!exited || endsWithin(context.outputGrace())) {
                return;
            }
            log.info("process {} in container {} exited {} ago and its output is still held open; ending what it "
                    + "left running", pid, context.containerId(), context.outputGrace());
            signalRemainingQuietly(Signal.SIGKILL);
            if (!endsWithin(context.outputGrace())) {
                killRuntimeIfRunning();
            }
        } catch (IOException e) {
            log.debug("following process {} failed: {}", pid, e.getMessage());
        } finally {
            releaseSession();
        }
    }

    private boolean endsWithin(Duration grace) {
        try {
            exit.get(grace.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private void killRuntimeIfRunning() {
        if (!runtime.onExit().isDone()) {
            log.warn("the runtime of process {} in container {} still waits; killing it", pid, context.containerId());
            runtimeKilled = true;
            try {
                runtime.kill();
            } catch (IOException e) {
                log.warn("killing the runtime failed: {}", e.getMessage());
            }
        }
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return runtime.stdin();
    }

    @Override
    public Optional<InputStream> stdout() {
        return runtime.stdout();
    }

    @Override
    public Optional<InputStream> stderr() {
        return runtime.stderr();
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public void signal(Signal signal) throws IOException {
        if (pidfd == null) {
            return;
        }
        // Noted before it is sent: the process may die of it, and the runtime report the exit, before send returns.
        Signal previous = delivered;
        delivered = signal;
        try {
            if (!pidfd.send(signal)) {
                delivered = previous; // it had exited: not this signal's doing
            }
        } catch (IOException | RuntimeException e) {
            delivered = previous;
            throw e;
        }
    }

    /**
     * SIGTERM to the process group. On a terminal, first SIGHUP to the process, as when a terminal hangs up (an
     * interactive shell ignores SIGTERM), and SIGTERM to every process of its session, its jobs' groups included.
     */
    @Override
    public void terminate() throws IOException {
        if (context.tty() && pidfd != null && !pidfd.exited()) {
            holdSession();
            signalSession(Signal.SIGTERM);
            hungUp = true; // before it is sent: the process may die of it, and its exit be read, before send returns
            pidfd.send(Signal.SIGHUP);
        }
        signalGroup(Signal.SIGTERM);
    }

    private void holdSession() {
        List<PidFd> members = Session.members((int) pid);
        synchronized (session) {
            if (pidfd == null || pidfd.exited()) {
                members.forEach(PidFd::close); // the leader went while /proc was read: its id may name another now
                return;
            }
            session.forEach(PidFd::close);
            session.clear();
            session.addAll(members);
        }
    }

    private void signalSession(Signal signal) {
        synchronized (session) {
            for (PidFd member : session) {
                try {
                    member.send(signal);
                } catch (IOException e) {
                    log.debug("signalling a process of {}'s session failed: {}", pid, e.getMessage());
                }
            }
        }
    }

    private void releaseSession() {
        synchronized (session) {
            session.forEach(PidFd::close);
            session.clear();
        }
    }

    /**
     * Kills the process's group. A process that does not go (its container is paused: the SIGKILL waits for the
     * thaw) or is gone already while the runtime still waits has its runtime killed after a moment.
     */
    @Override
    public void kill() throws IOException {
        signalSession(Signal.SIGKILL);
        signalGroup(Signal.SIGKILL);
        CompletableFuture.runAsync(this::killRuntimeIfRunning,
                CompletableFuture.delayedExecutor(KILL_PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** Signals the process and its group: through the pidfd while it lives, else what is left of its group. */
    private void signalGroup(Signal signal) throws IOException {
        delivered = signal;
        if (pidfd != null && !pidfd.exited()) {
            ProcessGroup.signalLive(pidfd, pid, signal);
            return;
        }
        ProcessGroup.signalRemaining(pid, context.containerInitPid(), signal);
    }

    private void signalQuietly(Signal signal) {
        try {
            signalGroup(signal);
        } catch (IOException e) {
            log.debug("signalling process {} failed: {}", pid, e.getMessage());
        }
    }

    private void signalRemainingQuietly(Signal signal) {
        try {
            ProcessGroup.signalRemaining(pid, context.containerInitPid(), signal);
        } catch (IOException e) {
            log.debug("signalling the group of process {} failed: {}", pid, e.getMessage());
        }
    }

    /**
     * Resizes the runtime's terminal, which the runtime copies to the container's on SIGWINCH. A runtime that does
     * not (crun before 1.8.7) gets the container's terminal sized directly, through the process's own stdin.
     */
    @Override
    public void resize(ConsoleSize size) throws IOException {
        runtime.resize(size);
        if (!context.runtimeForwardsResize() && pidfd != null && !pidfd.exited()) {
            resizeContainerTerminal(size);
        }
    }

    /**
     * Sizes the terminal the process has as its stdin, through a copy of that very descriptor ({@code pidfd_getfd}):
     * opening {@code /proc/<pid>/fd/0} instead would open anew, as root and outside the container's device rules,
     * whatever the process put there (a device node it made and may not open, a FIFO whose writer it waits for).
     * A stdin that is no longer a pseudo-terminal is left alone.
     */
    private void resizeContainerTerminal(ConsoleSize size) throws IOException {
        int fd = pidfd == null ? -1 : pidfd.copyDescriptor(0);
        if (fd < 0) {
            return; // the process has gone
        }
        try {
            if (!isPseudoTerminal(fd)) {
                return;
            }
            Libc.winsize winsize = new Libc.winsize();
            winsize.ws_col = (short) size.width();
            winsize.ws_row = (short) size.height();
            LIBC.ioctl(fd, new NativeLong(Libc.TIOCSWINSZ), winsize);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Libc.ENOTTY) {
                throw new IOException("resizing the container's terminal: " + LIBC.strerror(e.getErrorCode()), e);
            }
        } finally {
            try {
                LIBC.close(fd);
            } catch (LastErrorException ignored) {
                // our own descriptor
            }
        }
    }

    /**
     * Whether a descriptor of the service's is a pseudo-terminal's slave (Unix 98 majors 136 to 143), by a stat
     * through {@code /proc/self/fd}, which opens nothing.
     */
    private static boolean isPseudoTerminal(int fd) {
        try {
            Path open = Path.of("/proc/self/fd", Integer.toString(fd));
            int mode = (Integer) Files.getAttribute(open, "unix:mode");
            long rdev = (Long) Files.getAttribute(open, "unix:rdev");
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            return (mode & S_IFMT) == S_IFCHR && major >= 136 && major <= 143;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void closeStdin() throws IOException {
        runtime.closeStdin();
    }

    @Override
    public void close() {
        runtime.close();
    }
}
