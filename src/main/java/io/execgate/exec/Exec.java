package io.execgate.exec;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetRef;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One command's life, with hcsshim's {@code Cmd} semantics: start the process, relay its output, and once
 * it exits give the relays {@code copy-after-exit-timeout} to drain before closing its streams (a grandchild
 * may hold them open for ever). The exit status is recorded before the exec is reported ended, so whoever
 * sees the end can always read the status.
 *
 * <p>Thread-safety: state changes happen under {@link #lock}; callbacks run on the process's waiter thread,
 * the relay threads and the shared timer thread.
 */
public final class Exec {

    private static final Logger log = LoggerFactory.getLogger(Exec.class);

    /** Told once when an exec has ended, whichever way. */
    interface Listener {
        void ended(Exec exec);
    }

    /** A consistent view of the mutable part of an exec. */
    record Snapshot(ExecState state, @Nullable Long pid, @Nullable Instant startedAt, @Nullable ExitStatus exit) {
    }

    private final String id;
    private final TargetRef target;
    private final List<String> command;
    private final boolean tty;
    private final boolean stdin;
    private final Duration timeout;
    private final Instant createdAt;
    private final OutputBuffer stdout;
    private final OutputBuffer stderr;
    private final ExecRuntime runtime;
    private final Listener listener;
    private final CompletableFuture<Exec> ended = new CompletableFuture<>();

    private final Object lock = new Object();
    private ExecState state = ExecState.CREATED;
    private @Nullable HostProcess process;
    private @Nullable Long pid;
    private @Nullable Instant startedAt;
    private @Nullable Instant endedAt;
    private @Nullable ExitStatus exit;
    private boolean processExited;
    private @Nullable ExitReason terminating;
    private @Nullable ScheduledFuture<?> timeoutTask;
    private @Nullable ScheduledFuture<?> killTask;

    Exec(String id, TargetRef target, List<String> command, boolean tty, boolean stdin, Duration timeout,
            OutputBuffer stdout, OutputBuffer stderr, ExecRuntime runtime, Listener listener) {
        this.id = id;
        this.target = target;
        this.command = List.copyOf(command);
        this.tty = tty;
        this.stdin = stdin;
        this.timeout = timeout;
        this.stdout = stdout;
        this.stderr = stderr;
        this.runtime = runtime;
        this.listener = listener;
        this.createdAt = runtime.clock().instant();
    }

    /**
     * Starts the process and its relays. On failure the exec is recorded as {@link ExecState#FAILED} and the
     * failure rethrown.
     *
     * @param input bytes to write to stdin before closing it, or null to leave stdin to the caller
     */
    void start(ProcessHost host, ProcessSpec spec, byte @Nullable [] input) throws StartFailure {
        HostProcess started;
        try {
            started = host.start(spec);
        } catch (StartFailure failure) {
            end(new ExitStatus(failure.kind().shellExitCode(), null, ExitReason.START_FAILED,
                    runtime.clock().instant(), failure.getMessage()));
            throw failure;
        } catch (RuntimeException | Error e) {
            end(new ExitStatus(null, null, ExitReason.START_FAILED, runtime.clock().instant(),
                    "the backend failed: " + e));
            throw e;
        }
        try {
            watch(started, input);
        } catch (RuntimeException | Error e) {
            // Relays could not start (no threads left): do not leave a process nobody reads or waits for.
            killQuietly(started);
            started.close();
            end(ExitStatus.lost("the exec could not follow its process: " + e, runtime.clock().instant()));
            throw e;
        }
    }

    private void watch(HostProcess started, byte @Nullable [] input) {
        boolean terminateNow;
        synchronized (lock) {
            process = started;
            pid = started.pid();
            startedAt = runtime.clock().instant();
            state = ExecState.RUNNING;
            // A DELETE that came while the process was starting asked for termination already.
            terminateNow = terminating != null;
            if (terminateNow) {
                scheduleKill();
            } else if (timeout.isPositive()) {
                timeoutTask = runtime.scheduler().schedule(() -> terminate(ExitReason.TIMEOUT),
                        timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
        CompletableFuture<Long> out = started.stdout().map(s -> OutputRelay.start(id, "stdout", s, stdout))
                .orElse(CompletableFuture.completedFuture(0L));
        CompletableFuture<Long> err = started.stderr().map(s -> OutputRelay.start(id, "stderr", s, stderr))
                .orElse(CompletableFuture.completedFuture(0L));
        if (input != null) {
            started.stdin().ifPresent(s -> StdinFeeder.start(id, s, input));
        }
        CompletableFuture<Void> relays = CompletableFuture.allOf(out, err);
        started.onExit().whenComplete((status, error) -> processExited(started, relays, status != null ? status
                : ExitStatus.lost("waiting for the process failed: " + error, runtime.clock().instant())));
        if (terminateNow) {
            sendTerminate(started);
        }
    }

    private void killQuietly(HostProcess process) {
        try {
            process.kill();
        } catch (IOException e) {
            log.warn("exec {}: SIGKILL failed: {}", id, e.getMessage());
        }
    }

    /** The process has exited: record how, then give the relays their drain time. */
    private void processExited(HostProcess exited, CompletableFuture<Void> relays, ExitStatus status) {
        ExitStatus recorded;
        synchronized (lock) {
            processExited = true;
            cancel(timeoutTask);
            cancel(killTask);
            recorded = terminating != null && status.reason() != ExitReason.LOST ? status.withReason(terminating) : status;
        }
        Duration drain = runtime.copyAfterExitTimeout();
        if (drain.isPositive() && !relays.isDone()) {
            ScheduledFuture<?> guard = runtime.scheduler().schedule(() -> {
                if (!relays.isDone()) {
                    log.warn("exec {}: output still open {} after the process exited (a child may hold it); closing it",
                            id, drain);
                    exited.close();
                }
            }, drain.toNanos(), TimeUnit.NANOSECONDS);
            relays.whenComplete((ignored, error) -> guard.cancel(false));
        }
        relays.whenComplete((ignored, error) -> {
            exited.close();
            end(recorded);
        });
    }

    private void end(ExitStatus status) {
        synchronized (lock) {
            if (exit != null) {
                return;
            }
            exit = status;
            endedAt = runtime.clock().instant();
            state = switch (status.reason()) {
                case START_FAILED -> ExecState.FAILED;
                case LOST -> ExecState.UNKNOWN;
                default -> ExecState.EXITED;
            };
        }
        try {
            listener.ended(this);
        } finally {
            ended.complete(this);
        }
    }

    /**
     * Stops the process: SIGTERM to it and what it started, SIGKILL after the kill grace period.
     *
     * @param reason what the exec's {@code reason} becomes ({@link ExitReason#TIMEOUT} for a timeout)
     * @return false when the process was not running
     */
    boolean terminate(ExitReason reason) {
        HostProcess running;
        synchronized (lock) {
            if (state.ended() || processExited || terminating != null) {
                return false;
            }
            terminating = reason;
            if (state == ExecState.CREATED) {
                return true; // start() terminates the process as soon as it exists
            }
            running = process;
            scheduleKill();
        }
        sendTerminate(running);
        return true;
    }

    private void scheduleKill() {
        killTask = runtime.scheduler().schedule(this::kill, runtime.killGracePeriod().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void sendTerminate(HostProcess running) {
        log.debug("exec {}: terminating ({})", id, terminating);
        try {
            running.terminate();
        } catch (IOException e) {
            log.warn("exec {}: SIGTERM failed: {}", id, e.getMessage());
        }
    }

    /** Ends the process and what it started at once. */
    void kill() {
        HostProcess running;
        synchronized (lock) {
            if (processExited || process == null) {
                return;
            }
            running = process;
        }
        killQuietly(running);
    }

    /** Delivers a signal; false when the process is not running. */
    boolean signal(Signal signal) throws IOException {
        HostProcess running = runningProcess();
        if (running == null) {
            return false;
        }
        running.signal(signal);
        return true;
    }

    /** Closes the process's stdin; false when the process is not running. */
    boolean closeStdin() throws IOException {
        HostProcess running = runningProcess();
        if (running == null) {
            return false;
        }
        running.closeStdin();
        return true;
    }

    /** Resizes the terminal; false when the process is not running. */
    boolean resize(ConsoleSize size) throws IOException {
        HostProcess running = runningProcess();
        if (running == null) {
            return false;
        }
        running.resize(size);
        return true;
    }

    private @Nullable HostProcess runningProcess() {
        synchronized (lock) {
            return state == ExecState.RUNNING && !processExited ? process : null;
        }
    }

    public String id() {
        return id;
    }

    public TargetRef target() {
        return target;
    }

    public List<String> command() {
        return command;
    }

    public boolean tty() {
        return tty;
    }

    public boolean stdin() {
        return stdin;
    }

    public Instant createdAt() {
        return createdAt;
    }

    OutputBuffer stdout() {
        return stdout;
    }

    OutputBuffer stderr() {
        return stderr;
    }

    /** The output bytes this exec holds on to. */
    long retainedBytes() {
        return stdout.retained() + (long) stderr.retained();
    }

    /** Completes once the exec has ended: its status is recorded and its output complete. */
    public CompletableFuture<Exec> ended() {
        return ended;
    }

    /** When the exec ended (not when the process exited), or null while it has not. */
    @Nullable Instant endedAt() {
        synchronized (lock) {
            return endedAt;
        }
    }

    Snapshot snapshot() {
        synchronized (lock) {
            return new Snapshot(state, pid, startedAt, exit);
        }
    }

    private static void cancel(@Nullable ScheduledFuture<?> task) {
        if (task != null) {
            task.cancel(false);
        }
    }
}
