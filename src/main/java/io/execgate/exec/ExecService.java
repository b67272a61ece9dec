package io.execgate.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.api.FieldProblem;
import io.execgate.host.BackendStatus;
import io.execgate.host.BlockingThreads;
import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ProcessHost;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.UnsupportedSignalException;
import io.execgate.host.AmbiguousTargetException;
import io.execgate.upstream.UpstreamConnection;
import io.execgate.upstream.Upstreams;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.host.Targets;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, finds, waits for, controls and removes execs. Knows targets only through {@link Targets} and
 * processes only through the host SPI.
 */
public class ExecService {

    private static final Logger log = LoggerFactory.getLogger(ExecService.class);
    /** The longest {@code GET .../exit?wait=} the API allows. */
    static final Duration MAX_EXIT_WAIT = Duration.ofMinutes(5);
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);
    /** How long an exec started for its attachments waits for the first one. */
    static final Duration FIRST_ATTACHMENT_WAIT = Duration.ofSeconds(30);

    private final Targets targets;
    private final ExecRegistry registry;
    private final ExecProperties properties;
    private final ExecRuntime runtime;
    private final Validator validator;
    private final Supplier<Caller> callers;
    private final List<ExecObserver> observers;
    private final Upstreams upstreams;
    private volatile boolean accepting = true;
    private final Semaphore runningSlots;
    private final OutputBudget outputBudget;
    /** Running execs per principal, for {@code max-running-per-principal}; entries go when they reach zero. */
    private final Map<String, Integer> runningByPrincipal = new HashMap<>();
    /** Execs whose process may still run, deleted ones included: what shutdown must stop. */
    private final Set<Exec> live = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private final SecureRandom random = new SecureRandom();
    /** Starts a named task on a platform thread; replaced by tests to make a start fail. */
    BiConsumer<String, Runnable> backgroundStarts = BlockingThreads::start;

    ExecService(Targets targets, ExecRegistry registry, ExecProperties properties, ExecRuntime runtime,
            Validator validator, Supplier<Caller> callers, List<ExecObserver> observers, Upstreams upstreams) {
        this.targets = targets;
        this.registry = registry;
        this.properties = properties;
        this.runtime = runtime;
        this.validator = validator;
        this.callers = callers;
        this.observers = List.copyOf(observers);
        this.upstreams = upstreams;
        this.runningSlots = new Semaphore(properties.maxRunning());
        this.outputBudget = new OutputBudget(properties.runningOutputBytes(Runtime.getRuntime().maxMemory()));
    }

    /** The service's own host as a target; 503 when the host backend cannot be used. */
    public TargetRef hostTarget() {
        return targets.host().map(TargetInfo::ref).orElseThrow(() -> new ApiException(ErrorCode.BACKEND_UNAVAILABLE,
                "the host backend is unavailable: " + targets.backends().stream()
                        .filter(b -> b.kind() == TargetKind.HOST).map(BackendStatus::detail).findFirst()
                        .orElse("no host backend is configured")));
    }

    /** Starts an exec whose output is retained for {@code GET .../output} and attachments. */
    public Exec create(TargetRef target, ExecRequest request) {
        return start(target, request.options(), retaining(), retaining(), null, false);
    }

    /**
     * Starts an exec for the one-step WebSocket form: it lives as long as its attachments, and is terminated
     * when the last one goes, or when none comes within {@link #FIRST_ATTACHMENT_WAIT}. The request is validated
     * here, since it does not come through a controller.
     */
    public Exec createForAttachment(TargetRef target, ExecRequest request, boolean stdout, boolean stderr) {
        Set<ConstraintViolation<ExecRequest>> violations = validator.validate(request);
        if (!violations.isEmpty()) {
            throw ApiException.invalid("the exec request is not valid", FieldProblem.of(violations));
        }
        Exec exec = start(target, request.options().withOutputs(stdout, stderr), retaining(), retaining(), null, true);
        runtime.schedule("exec-" + exec.id() + "-unattached", () -> {
            if (!exec.everAttached()) {
                log.debug("exec {}: no attachment came; terminating it", exec.id());
                exec.terminate(ExitReason.KILLED);
            }
        }, FIRST_ATTACHMENT_WAIT.toNanos());
        return exec;
    }

    /**
     * Attaches a client to an exec; see {@link Attachment} for what it receives.
     *
     * @param caller who attaches (the handshake's caller: the session's thread has no request)
     * @param stdin  whether the client may write to the exec's stdin
     */
    public Subscription attach(Exec exec, Attachment attachment, Caller caller, boolean stdin) {
        tell(o -> o.controlled(exec, caller, stdin ? "attach +stdin" : "attach"));
        return new AuditedSubscription(exec.attach(attachment), exec, caller);
    }

    /** Controls sent over an attachment (resize, close stdin) are audited as the REST ones are, by who attached. */
    private final class AuditedSubscription implements Subscription {
        private final Subscription subscription;
        private final Exec exec;
        private final Caller caller;

        AuditedSubscription(Subscription subscription, Exec exec, Caller caller) {
            this.subscription = subscription;
            this.exec = exec;
            this.caller = caller;
        }

        @Override
        public boolean writeStdin(byte[] data, Duration patience) throws InterruptedException {
            return subscription.writeStdin(data, patience);
        }

        @Override
        public void closeStdin() throws IOException {
            tell(o -> o.controlled(exec, caller, "close-stdin"));
            subscription.closeStdin();
        }

        @Override
        public void resize(ConsoleSize size) throws IOException {
            tell(o -> o.controlled(exec, caller, "resize " + size.width() + "x" + size.height()));
            subscription.resize(size);
        }

        @Override
        public void detach() {
            subscription.detach();
        }

        @Override
        public String execId() {
            return subscription.execId();
        }
    }

    private void controlled(Exec exec, String action) {
        Caller caller = callers.get();
        tell(o -> o.controlled(exec, caller, action));
    }

    /**
     * Audits and counts a one-step exec refused because its session had no room (the stream's limits), as the
     * running-exec limits' refusals are.
     */
    public void refusedSession(TargetRef target, List<String> command, String reason) {
        Caller caller = callers.get();
        tell(o -> o.refused(caller, target, command, reason));
    }

    /** Terminates an exec that lost its reason to run (its WebSocket handshake failed). */
    public void abandon(Exec exec) {
        exec.terminate(ExitReason.KILLED);
    }

    private OutputBuffer retaining() {
        return new OutputBuffer((int) properties.outputBufferSize().toBytes(), OutputBuffer.Policy.KEEP_NEWEST,
                outputBudget);
    }

    /**
     * Runs an exec to completion: feeds {@code input}, keeps the first {@code maxOutputBytes} of each stream.
     * Cancelling the answer terminates the exec (its caller hung up).
     */
    public CompletableFuture<RunResponse> run(TargetRef target, RunRequest request) {
        ExecOptions options = request.options();
        byte[] input = options.stdin()
                ? (request.input() == null ? new byte[0] : request.input().getBytes(StandardCharsets.UTF_8))
                : null;
        Exec exec = start(target, options,
                new OutputBuffer(request.outputLimit(), OutputBuffer.Policy.KEEP_OLDEST, outputBudget),
                new OutputBuffer(request.outputLimit(), OutputBuffer.Policy.KEEP_OLDEST, outputBudget), input, false);
        CompletableFuture<RunResponse> answer = exec.ended().thenApply(RunResponse::of);
        // The caller is a run's only reader: when it goes (its answer is cancelled), the process goes too, as CRI's
        // ExecSync ends its process when the call is cancelled, rather than run on with nobody to read it.
        answer.whenComplete((response, failure) -> {
            if (failure instanceof CancellationException && exec.terminate(ExitReason.KILLED)) {
                tell(o -> o.controlled(exec, exec.caller(), "caller-gone"));
            }
        });
        return answer;
    }

    private Exec start(TargetRef target, ExecOptions options, OutputBuffer stdout, OutputBuffer stderr,
            byte @Nullable [] input, boolean endsWithLastAttachment) {
        if (options.command().getFirst().isEmpty()) {
            throw ApiException.invalid("command[0]", "must name an executable");
        }
        ArgumentLimits.check(options.command(), options.env());
        if (!accepting) {
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "execgate is shutting down");
        }
        Caller caller = callers.get();
        if (options.upstream() != null && !caller.hostAccess()) {
            // A driver is a program on the host and a FIFO path is any of the host's: an admin's to name.
            throw new ApiException(ErrorCode.FORBIDDEN, "upstream IO (io) opens the host's FIFOs and starts host "
                    + "programs: it needs the admin role");
        }
        ProcessHost host;
        try {
            host = targets.open(target).orElseThrow(() -> targetNotFound(target));
        } catch (AmbiguousTargetException e) {
            throw ApiException.ambiguous(e);
        }
        if (!runningSlots.tryAcquire()) {
            throw refused(caller, target, options, properties.maxRunning()
                    + " execs are running, the most allowed (execgate.exec.max-running)");
        }
        if (!takePrincipalSlot(caller.principal())) {
            runningSlots.release();
            throw refused(caller, target, options, caller.principal() + " runs " + properties.maxRunningPerPrincipal()
                    + " execs, the most one principal may (execgate.exec.max-running-per-principal)");
        }
        String id = newId();
        UpstreamConnection upstream = null;
        IOException upstreamFailure = null;
        Exec exec;
        try {
            if (options.upstream() != null) {
                try {
                    upstream = upstreams.prepare(options.upstream(), id);
                } catch (IOException e) {
                    upstreamFailure = e; // a start failure like any other: the exec is recorded, then fails
                }
            }
            exec = new Exec(id, target, options.command(), options.tty(), options.stdin(), options.timeout(),
                    stdout, stderr, runtime, this::ended, endsWithLastAttachment, caller, upstream,
                    runtime.clock().instant());
            registry.add(exec);
        } catch (RuntimeException e) {
            // Refused before it existed (max-records, a store that cannot write): audited as the limits' refusals are
            if (upstream != null) {
                upstream.close();
            }
            runningSlots.release();
            givePrincipalSlot(caller.principal());
            tell(o -> o.refused(caller, target, options.command(), e.getMessage()));
            throw e;
        }
        live.add(exec);
        tell(o -> o.started(exec, options.env(), options.user(), options.workingDir(), options.upstream()));
        if (upstreamFailure != null) {
            String why = "upstream IO: " + upstreamFailure.getMessage();
            exec.abandon(why);
            throw new ApiException(ErrorCode.EXEC_START_FAILED, why).with("execId", id);
        }
        if (upstream != null && upstream.waitsForClient()) {
            // The client learns where to connect from the exec resource: the start waits for it in the background,
            // on a platform thread (opening a FIFO blocks in native code until the client opens its end).
            try {
                backgroundStarts.accept("exec-" + id + "-start", () -> {
                    try {
                        startTimed(exec, host, options, input);
                    } catch (StartFailure failure) {
                        log.info("exec {} on {} did not start: {}", id, target, failure.getMessage());
                    } catch (RuntimeException e) {
                        log.warn("exec {} on {} failed to start", id, target, e);
                    }
                });
            } catch (RuntimeException | OutOfMemoryError e) {
                // No thread to wait on (the pool is full, or the system has no threads left): the exec must not
                // stay "created" for ever holding its running slots and FIFOs.
                exec.abandon("no thread to wait for the upstream client: " + e);
                throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "exec " + id + " could not wait for its "
                        + "upstream client: " + e.getMessage()).with("execId", id).withHeader("Retry-After", "1");
            }
            return exec;
        }
        try {
            startTimed(exec, host, options, input);
        } catch (StartFailure failure) {
            log.debug("exec {} on {} failed to start: {}", exec.id(), target, failure.getMessage());
            // A target that stopped is a conflict with its state, as Docker answers an exec into a stopped container.
            // A backend's "access denied" is a start failure (422) like any permission denied: a 403 would tell
            // the client its token lacks a role.
            ErrorCode code = switch (failure.kind()) {
                case TARGET_GONE -> ErrorCode.CONFLICT;
                case TARGET_NOT_FOUND -> ErrorCode.TARGET_NOT_FOUND;
                case BACKEND_UNAVAILABLE -> ErrorCode.BACKEND_UNAVAILABLE;
                default -> ErrorCode.EXEC_START_FAILED;
            };
            ApiException refused = new ApiException(code, failure.getMessage()).with("execId", exec.id());
            // Unavailable for now (a UVM's sessions, a host out of processes): worth trying again soon.
            throw code == ErrorCode.BACKEND_UNAVAILABLE ? refused.withHeader("Retry-After", "1") : refused;
        } catch (RuntimeException | Error e) {
            // Not a start failure the backend named (a backend's bug, no thread left for a relay): the exec has
            // ended already (failed, or unknown with its process killed); the client learns which exec, and that it
            // may try again, not a bare 500.
            log.warn("exec {} on {} could not start", exec.id(), target, e);
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "the exec could not start: " + e)
                    .with("execId", exec.id()).withHeader("Retry-After", "1");
        }
        return exec;
    }

    private void startTimed(Exec exec, ProcessHost host, ExecOptions options, byte @Nullable [] input) throws StartFailure {
        long began = System.nanoTime();
        exec.start(host, options.toSpec(), input);
        registry.started(exec);
        Duration took = Duration.ofNanos(System.nanoTime() - began);
        tell(o -> o.processStarted(exec, took));
    }

    /** The service is going away: new execs are refused (503); the running ones end at {@link #shutdown()}. */
    public void stopAccepting() {
        accepting = false;
    }

    /** Takes execs again (a context that was stopped and is started again, as a test's cached context is). */
    public void startAccepting() {
        accepting = true;
    }

    /** Execs that have not ended. */
    public int liveCount() {
        return live.size();
    }

    /** Clients attached to execs that have not ended. */
    public int attachmentCount() {
        return live.stream().mapToInt(Exec::attachmentCount).sum();
    }

    /** Every exec ends here exactly once, whichever way: its slot and its place among the live go. */
    private void ended(Exec exec) {
        live.remove(exec);
        // Counted as ended (so evictable) before its slot frees: a create let in by that slot finds room in a full table.
        registry.ended(exec);
        runningSlots.release();
        givePrincipalSlot(exec.caller().principal());
        tell(o -> o.ended(exec));
    }

    public Optional<Exec> find(String id) {
        return registry.find(id);
    }

    public Exec get(String id) {
        return registry.find(id).orElseThrow(() -> new ApiException(ErrorCode.EXEC_NOT_FOUND, "no exec has the id " + id));
    }

    /** Records matching the filters, newest first. */
    public List<Exec> list(@Nullable TargetRef target, @Nullable TargetKind kind, @Nullable ExecState state, int limit) {
        Predicate<Exec> filter = exec -> (target == null || exec.target().equals(target))
                && (kind == null || exec.target().kind() == kind)
                && (state == null || exec.snapshot().state() == state);
        return registry.list(filter, limit);
    }

    /**
     * The exec once it has ended, or null when {@code wait} passes first. Blocks: callers are requests on virtual
     * threads. A timed wait leaves nothing behind when it times out, where a completion hung on the exec's future
     * would stay there until the exec ends, one per poll of a long-running exec.
     */
    public @Nullable Exec awaitEnd(String id, Duration wait) {
        Exec exec = get(id);
        return exec.ended().isDone() || (!wait.isZero() && endsWithin(exec.ended(), wait)) ? exec : null;
    }

    public void signal(String id, Signal signal) {
        Exec exec = get(id);
        controlled(exec, "signal " + signal.name());
        try {
            if (!exec.signal(signal)) {
                throw notRunning(exec);
            }
        } catch (UnsupportedSignalException e) {
            throw ApiException.invalid("signal", e.getMessage());
        } catch (IOException e) {
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "delivering " + signal.name() + " failed: " + e.getMessage());
        }
    }

    public void resize(String id, ConsoleSize size) {
        Exec exec = get(id);
        controlled(exec, "resize " + size.width() + "x" + size.height());
        if (exec.snapshot().state().ended()) {
            throw notRunning(exec);
        }
        if (!exec.tty()) {
            throw new ApiException(ErrorCode.NOT_A_TTY, "exec " + id + " has no terminal to resize (tty: false)");
        }
        try {
            if (!exec.resize(size)) {
                throw notRunning(exec);
            }
        } catch (IOException e) {
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "resizing the terminal failed: " + e.getMessage());
        }
    }

    public void closeStdin(String id) {
        Exec exec = get(id);
        controlled(exec, "close-stdin");
        try {
            if (!exec.closeStdin()) {
                throw notRunning(exec);
            }
        } catch (IOException e) {
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "closing stdin failed: " + e.getMessage());
        }
    }

    /** The retained output of one stream ({@code stdout} or {@code stderr}), as it is now, not copied. */
    OutputBuffer.Retained output(String id, String stream) {
        Exec exec = get(id);
        return switch (stream) {
            case "stdout" -> exec.stdout().retainedNow();
            case "stderr" -> exec.stderr().retainedNow();
            default -> throw ApiException.invalid("stream", "must be stdout or stderr");
        };
    }

    /** Removes the record; a running exec is terminated (SIGTERM, then SIGKILL after the grace period). */
    public void delete(String id) {
        Exec exec = registry.remove(id).orElseThrow(() -> new ApiException(ErrorCode.EXEC_NOT_FOUND,
                "no exec has the id " + id));
        controlled(exec, "delete");
        exec.terminate(ExitReason.KILLED);
    }

    /**
     * Run by the timer: hands the sweep to a pooled thread, one sweep at a time. The sweep writes to the store,
     * which a stalled disk can hold for seconds, and the timer's one thread must stay free for timeouts and kills;
     * nor may a sweep that throws end the timer's schedule, and with it retention for good.
     */
    void sweepOffTimer() {
        if (!sweeping.compareAndSet(false, true)) {
            return; // the last one is still at it
        }
        try {
            BlockingThreads.start("exec-sweep", () -> {
                try {
                    sweep();
                } catch (RuntimeException | Error e) {
                    log.error("the sweep of exec records failed; the next one tries again", e);
                } finally {
                    sweeping.set(false);
                }
            });
        } catch (RuntimeException | Error e) {
            // No pooled thread now: skipped, not run here on the timer's thread; the next one tries again.
            sweeping.set(false);
            log.warn("the sweep of exec records could not be started; the next one tries again: {}", e.toString());
        }
    }

    /** Drops ended records past their retention, and writes what the store refused before. */
    void sweep() {
        int removed = registry.sweep(runtime.clock().instant());
        if (removed > 0) {
            log.debug("removed {} exec records past their retention of {}", removed, properties.retention());
        }
    }

    /**
     * The first step of a shutdown, before the web server's graceful wait: SIGTERM to every exec whose process
     * may still run, without waiting. A run-to-completion or an exit wait in flight then gets its answer (the exec
     * killed) while the server still answers, instead of holding the graceful wait to its end, after which the
     * processes would be signalled only once a Kubernetes grace period had likely run out. {@link #shutdown()}
     * waits and kills what is left.
     */
    public void terminateAll() {
        List<Exec> running = List.copyOf(live);
        if (!running.isEmpty()) {
            log.info("terminating {} running execs: the service is shutting down", running.size());
            running.forEach(exec -> exec.terminate(ExitReason.KILLED));
        }
    }

    /**
     * Stops every exec whose process may still run, deleted ones included, so the service leaves no process
     * behind: SIGTERM, then SIGKILL for what is left after the kill grace period.
     */
    void shutdown() {
        List<Exec> running = List.copyOf(live);
        if (running.isEmpty()) {
            return;
        }
        log.info("terminating {} running execs on shutdown", running.size());
        running.forEach(exec -> exec.terminate(ExitReason.KILLED));
        if (!awaitEnd(running, properties.killGracePeriod())) {
            running.forEach(Exec::kill);
            if (!awaitEnd(running, SHUTDOWN_WAIT)) {
                log.warn("not every exec ended within {} of SIGKILL on shutdown", SHUTDOWN_WAIT);
            }
        }
    }

    private static boolean awaitEnd(List<Exec> execs, Duration atMost) {
        return endsWithin(CompletableFuture.allOf(execs.stream().map(Exec::ended).toArray(CompletableFuture[]::new)),
                atMost);
    }

    /** A timed wait: a waiter that times out is taken off the future (a completion hung on it would stay). */
    private static boolean endsWithin(CompletableFuture<?> ended, Duration atMost) {
        try {
            ended.get(atMost.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true; // ended() never fails; nothing to wait for
        }
    }

    /** Tells every observer; one that fails is logged, never the exec's or the caller's problem. */
    private void tell(Consumer<ExecObserver> event) {
        for (ExecObserver observer : observers) {
            try {
                event.accept(observer);
            } catch (RuntimeException e) {
                log.warn("an exec observer failed: {}", e.toString());
            }
        }
    }

    private ApiException refused(Caller caller, TargetRef target, ExecOptions options, String reason) {
        tell(o -> o.refused(caller, target, options.command(), reason));
        return new ApiException(ErrorCode.TOO_MANY_EXECS, reason).withHeader("Retry-After", "1");
    }

    /** Who is asking, on the asking thread. */
    public Caller currentCaller() {
        return callers.get();
    }

    private synchronized boolean takePrincipalSlot(String principal) {
        int running = runningByPrincipal.getOrDefault(principal, 0);
        if (running >= properties.maxRunningPerPrincipal()) {
            return false;
        }
        runningByPrincipal.put(principal, running + 1);
        return true;
    }

    private synchronized void givePrincipalSlot(String principal) {
        runningByPrincipal.computeIfPresent(principal, (name, running) -> running <= 1 ? null : running - 1);
    }

    private String newId() {
        byte[] bytes = new byte[12];
        random.nextBytes(bytes);
        return "e_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private ApiException targetNotFound(TargetRef target) {
        boolean anyBackend = targets.backends().stream().anyMatch(b -> b.kind() == target.kind() && b.available());
        String kind = target.kind().value();
        return new ApiException(ErrorCode.TARGET_NOT_FOUND, anyBackend
                ? "no " + kind + " has the id " + target.id()
                : "no " + kind + " has the id " + target.id() + ": no " + kind + " backend is available here");
    }

    private static ApiException notRunning(Exec exec) {
        ExecState state = exec.snapshot().state();
        if (state == ExecState.RUNNING) {
            // Its process has exited and the exec is copying the last output before it records the end
            return new ApiException(ErrorCode.EXEC_NOT_RUNNING, "exec " + exec.id() + "'s process has exited; its "
                    + "last output is still being copied before the exec ends");
        }
        return new ApiException(ErrorCode.EXEC_NOT_RUNNING, "exec " + exec.id() + " is "
                + state.value().toLowerCase(Locale.ROOT) + ", not running");
    }
}
