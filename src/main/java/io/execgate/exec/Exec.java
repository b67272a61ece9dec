package io.execgate.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetRef;
import io.execgate.upstream.UpstreamConnection;
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
    /**
     * More than a pipe (grown, 1 MiB) and a relay's chunk (1 MiB) hold together, with room: output read past this
     * after the exit is a child's.
     */
    private static final long DRAIN_SLACK = 4L * OutputRelay.MOST;
    private static final Duration DRAIN_RECHECK = Duration.ofMillis(100);
    /** How long a close of stdin waits to hear whether it failed, before it leaves the close queued. */
    private static final Duration CLOSE_STDIN_WAIT = Duration.ofSeconds(1);
    /** Input queued for a process that has not read it yet, at most. */
    private static final long STDIN_QUEUE_BYTES = 1024 * 1024;
    /** Retained output goes to a late attachment in messages of this size: a terminal page takes them in stride. */
    private static final int REPLAY_CHUNK = 64 * 1024;
    /**
     * How long an attachment's close of stdin or resize waits for a process still to start: a listen exec waits
     * for its client (connect-timeout), a container's start for its runtime (start-timeout); both are shorter.
     */
    private static final Duration START_WAIT = Duration.ofMinutes(5);

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
    private final boolean endsWithLastAttachment;
    private final Caller caller;
    private final @Nullable UpstreamConnection upstream;
    /** The upstream paths of an exec restored from its record (its connection went with the old service). */
    private UpstreamConnection.@Nullable Paths recordedPaths;
    private final CompletableFuture<Exec> ended = new CompletableFuture<>();
    private final ExecLifeEvent life;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    /**
     * Opens the relays. An exec started for its attachments holds its output back until the first one is in
     * (or the process exits, or it is terminated), so nothing is lost to the ring buffer before anyone reads.
     */
    private final CompletableFuture<Void> relaysOpen = new CompletableFuture<>();
    /**
     * Completed once the process has started, or the exec has ended without one: an attachment's input, close of
     * stdin and resize wait for it, rather than being lost while the exec is still created.
     */
    private final CompletableFuture<Void> startedOrEnded = new CompletableFuture<>();
    private @Nullable StdinWriter stdinWriter; // guarded by lock; made on the first write from an attachment
    private volatile boolean everAttached;
    private int attachments; // guarded by lock: attached clients that have not left

    private final Object lock = new Object();
    private ExecState state = ExecState.CREATED;
    private @Nullable HostProcess process;
    private @Nullable Long pid;
    private @Nullable Instant startedAt;
    private @Nullable Instant endedAt;
    private @Nullable ExitStatus exit;
    private boolean processExited;
    private @Nullable ExitReason terminating;
    private long processExitedNanos;
    private @Nullable ScheduledFuture<?> timeoutTask;
    private @Nullable ScheduledFuture<?> killTask;

    Exec(String id, TargetRef target, List<String> command, boolean tty, boolean stdin, Duration timeout,
            OutputBuffer stdout, OutputBuffer stderr, ExecRuntime runtime, Listener listener) {
        this(id, target, command, tty, stdin, timeout, stdout, stderr, runtime, listener, false, Caller.SERVICE, null,
                runtime.clock().instant());
    }

    /**
     * @param endsWithLastAttachment terminate the process when its last attachment goes (the one-step
     *                               WebSocket form)
     * @param upstream               where tied streams go instead of the buffers and attachments; the exec closes it
     */
    Exec(String id, TargetRef target, List<String> command, boolean tty, boolean stdin, Duration timeout,
            OutputBuffer stdout, OutputBuffer stderr, ExecRuntime runtime, Listener listener,
            boolean endsWithLastAttachment, Caller caller, @Nullable UpstreamConnection upstream, Instant createdAt) {
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
        this.endsWithLastAttachment = endsWithLastAttachment;
        this.caller = caller;
        this.upstream = upstream;
        this.createdAt = createdAt;
        this.life = new ExecLifeEvent(id, target.toString());
        if (!endsWithLastAttachment) {
            relaysOpen.complete(null);
        }
    }

    /**
     * An exec of an earlier run of the service, from its record: ended, its output not retained (every byte counts
     * as dropped), attachable (the client gets the end at once) and deletable like any other.
     */
    static Exec restored(ExecRecord record, ExecRuntime runtime) {
        if (!record.ended()) {
            throw new IllegalArgumentException("exec " + record.id() + " has not ended: its record cannot be restored");
        }
        OutputBuffer stdout = new OutputBuffer(0, OutputBuffer.Policy.KEEP_NEWEST);
        OutputBuffer stderr = new OutputBuffer(0, OutputBuffer.Policy.KEEP_NEWEST);
        stdout.skip(record.stdoutBytes());
        stderr.skip(record.stderrBytes());
        Exec exec = new Exec(record.id(), record.target(), record.command(), record.tty(), record.stdin(), Duration.ZERO,
                stdout, stderr, runtime, ended -> { }, false,
                new Caller(record.principal(), record.remoteAddress(), false), null, record.createdAt());
        synchronized (exec.lock) {
            exec.state = record.state();
            exec.pid = record.pid();
            exec.startedAt = record.startedAt();
            exec.exit = record.exit();
            exec.endedAt = record.endedAt() != null ? record.endedAt() : record.createdAt();
            exec.processExited = true;
            if (record.stdinPath() != null || record.stdoutPath() != null || record.stderrPath() != null) {
                exec.recordedPaths = new UpstreamConnection.Paths(record.stdinPath(), record.stdoutPath(),
                        record.stderrPath());
            }
        }
        exec.startedOrEnded.complete(null);
        exec.ended.complete(exec);
        return exec;
    }

    /** What the store keeps of this exec now. */
    ExecRecord record() {
        Snapshot now = snapshot();
        Instant ended = endedAt();
        ExitStatus status = now.exit();
        UpstreamConnection.Paths paths = upstreamPaths();
        return new ExecRecord(id, target.kind(), target.id(), command, tty, stdin, now.state(), now.pid(),
                status == null ? null : status.exitCode(), status == null ? null : status.signal(),
                status == null ? null : status.reason(), status == null ? null : status.error(), createdAt,
                now.startedAt(), status == null ? null : status.at(), ended, stdout.total(), stderr.total(),
                stdout.dropped(), stderr.dropped(), paths == null ? null : paths.stdinPath(),
                paths == null ? null : paths.stdoutPath(), paths == null ? null : paths.stderrPath(),
                caller.principal(), caller.remoteAddress());
    }

    /**
     * Starts the process and its relays. On failure the exec is recorded as {@link ExecState#FAILED} and the
     * failure rethrown.
     *
     * @param input bytes to write to stdin before closing it, or null to leave stdin to the caller
     */
    void start(ProcessHost host, ProcessSpec spec, byte @Nullable [] input) throws StartFailure {
        if (upstream != null) {
            try {
                upstream.connect(); // before the process: it must not write before its output has somewhere to go
            } catch (IOException | RuntimeException e) {
                StartFailure failure = new StartFailure(StartFailure.Kind.BACKEND_ERROR, "upstream IO: " + e.getMessage(), e);
                ExitReason asked;
                synchronized (lock) {
                    asked = terminating;
                }
                // Ended on request (DELETE, shutdown) while it waited for its upstream client or driver: it did
                // not fail, it was stopped before its command ran, and its record says so as a started one would.
                // Recorded before the upstream goes, as for any end: a reader that sees its FIFO end can read it.
                endAndReleaseUpstream(asked != null
                        ? new ExitStatus(null, null, asked, runtime.clock().instant(),
                                "ended (" + asked.value() + ") before its command started")
                        : new ExitStatus(null, null, ExitReason.START_FAILED, runtime.clock().instant(), failure.getMessage()));
                throw failure;
            }
        }
        HostProcess started;
        // Taken before the start: a quick process can exit (and its exit be timed) before start() returns.
        Instant starting = runtime.clock().instant();
        life.spawning();
        try {
            started = host.start(spec);
            life.spawned();
        } catch (StartFailure failure) {
            endAndReleaseUpstream(new ExitStatus(failure.kind().shellExitCode(), null, ExitReason.START_FAILED,
                    runtime.clock().instant(), failure.getMessage()));
            throw failure;
        } catch (RuntimeException | Error e) {
            endAndReleaseUpstream(new ExitStatus(null, null, ExitReason.START_FAILED, runtime.clock().instant(),
                    "the backend failed: " + e));
            throw e;
        }
        try {
            watch(started, starting, input);
        } catch (RuntimeException | Error e) {
            // Relays could not start (no threads left): do not leave a process nobody reads or waits for, nor a relay
            // that did start waiting at its gate for an attachment (it reads the closed streams' end and stops).
            killQuietly(started);
            started.close();
            relaysOpen.complete(null);
            endAndReleaseUpstream(ExitStatus.lost("the exec could not follow its process: " + e,
                    runtime.clock().instant()));
            throw e;
        }
    }

    /**
     * Ends an exec whose start could not even be set going (its upstream IO could not be prepared, or no thread is
     * left to wait for its upstream client): it is recorded as {@link ExecState#FAILED}, and its FIFOs are removed.
     */
    void abandon(String why) {
        endAndReleaseUpstream(new ExitStatus(null, null, ExitReason.START_FAILED, runtime.clock().instant(), why));
    }

    private void watch(HostProcess started, Instant starting, byte @Nullable [] input) {
        boolean terminateNow;
        synchronized (lock) {
            process = started;
            pid = started.pid();
            startedAt = starting;
            state = ExecState.RUNNING;
            // A DELETE that came while the process was starting asked for termination already.
            terminateNow = terminating != null;
            if (terminateNow) {
                scheduleKill();
            } else if (timeout.isPositive()) {
                timeoutTask = runtime.schedule("exec-" + id + "-timeout", () -> terminate(ExitReason.TIMEOUT),
                        timeout.toNanos());
            }
        }
        startedOrEnded.complete(null);
        OutputRelay out = started.stdout()
                .map(s -> OutputRelay.start(id, "stdout", s, sink(StdStream.STDOUT), relaysOpen,
                        runtime.relayBuffers()))
                .orElseGet(OutputRelay::none);
        OutputRelay err = started.stderr()
                .map(s -> OutputRelay.start(id, "stderr", s, sink(StdStream.STDERR), relaysOpen,
                        runtime.relayBuffers()))
                .orElseGet(OutputRelay::none);
        if (upstream != null && upstream.stdin().isPresent() && started.stdin().isPresent()) {
            UpstreamStdin.start(id, upstream.stdin().get(), started);
        }
        if (input != null) {
            StdinWriter writer = stdinWriter();
            if (writer != null) {
                writer.write(input); // the queue is empty: taken at once, whatever its size
                writer.close();
            }
        }
        List<OutputRelay> relays = List.of(out, err);
        life.followed(); // before the exit callback, which runs here at once for a process that is gone already
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
    private void processExited(HostProcess exited, List<OutputRelay> relays, ExitStatus status) {
        life.exited();
        relaysOpen.complete(null); // no attachment came: what the process wrote goes to the buffer
        ExitStatus recorded;
        synchronized (lock) {
            processExited = true;
            processExitedNanos = System.nanoTime();
            if (stdinWriter != null) {
                stdinWriter.stop();
            }
            cancel(timeoutTask);
            cancel(killTask);
            recorded = terminating != null && status.reason() != ExitReason.LOST ? status.withReason(terminating) : status;
        }
        CompletableFuture<Void> drained = CompletableFuture.allOf(relays.stream().map(OutputRelay::done)
                .toArray(CompletableFuture[]::new));
        Duration drain = runtime.copyAfterExitTimeout();
        if (drain.isPositive() && !drained.isDone()) {
            long[] atExit = relays.stream().mapToLong(OutputRelay::bytes).toArray();
            scheduleDrainGuard(exited, relays, atExit, drained, drain.toNanos());
        }
        drained.whenComplete((ignored, error) -> {
            life.drained();
            exited.close();
            endAndReleaseUpstream(recorded);
        });
    }

    /**
     * Once the copy-after-exit timeout has passed, closes the streams a child still holds open. A relay still
     * handing a slow client what the process wrote before it exited (at most a pipe's worth and a chunk) is
     * waited for, so that output is never cut for being slow: one that is sending, or whose stream still holds
     * unread bytes (between two sends, the relay reads them next). A relay that waits for data that does not come,
     * or that reads a child's new output beyond {@link #DRAIN_SLACK}, is closed.
     */
    private void scheduleDrainGuard(HostProcess exited, List<OutputRelay> relays, long[] atExit,
            CompletableFuture<Void> drained, long delayNanos) {
        AtomicReference<ScheduledFuture<?>> next = new AtomicReference<>();
        next.set(runtime.scheduler().schedule(() -> drainGuard(exited, relays, atExit, drained, next), delayNanos,
                TimeUnit.NANOSECONDS));
        // Registered once, not once per recheck, and after the first is scheduled: a guard left waiting for its
        // time would hold the exited process that long.
        drained.whenComplete((ignored, error) -> next.get().cancel(false));
    }

    private void drainGuard(HostProcess exited, List<OutputRelay> relays, long[] atExit,
            CompletableFuture<Void> drained, AtomicReference<ScheduledFuture<?>> next) {
        if (drained.isDone()) {
            return;
        }
        boolean asked;
        synchronized (lock) {
            asked = terminating != null;
        }
        if (asked) {
            // Asked to end (DELETE, timeout, shutdown) and still draining after the copy-after-exit time: an
            // upstream reader that left for good or takes nothing is let go; the relays then drain and end.
            closeUpstream();
        }
        for (int i = 0; i < relays.size(); i++) {
            OutputRelay relay = relays.get(i);
            if (!relay.done().isDone() && (relay.delivering() || relay.pending() > 0)
                    && relay.bytes() - atExit[i] < DRAIN_SLACK) {
                next.set(runtime.scheduler().schedule(() -> drainGuard(exited, relays, atExit, drained, next),
                        DRAIN_RECHECK.toNanos(), TimeUnit.NANOSECONDS));
                if (drained.isDone()) {
                    next.get().cancel(false); // drained between the check and the schedule
                }
                return;
            }
        }
        log.warn("exec {}: output still open {} after the process exited (a child may hold it); closing it",
                id, runtime.copyAfterExitTimeout());
        ExecRuntime.offTimer("exec-" + id + "-close", exited::close); // a backend's close may block
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
            // The record outlives its process by the retention: it must not hold the process's streams (a stream
            // may keep the last buffer it read into, up to a relay's 1 MiB chunk) or its stdin writer; nor may a
            // timeout or kill still scheduled hold the exec (an end that did not come through the process's exit,
            // such as relays that could not start, left them to the timer for as long as the timeout).
            process = null;
            stdinWriter = null;
            cancel(timeoutTask);
            cancel(killTask);
        }
        startedOrEnded.complete(null);
        // Its relays are done: what the buffers hold now counts against the retained limit, not the running one.
        stdout.release();
        stderr.release();
        try {
            listener.ended(this);
            life.ended(status.exitCode(), status.reason().value());
        } finally {
            ended.complete(this);
        }
        // The status is recorded and the relays are done: attachments have all the output before the end.
        // Each is told on its own (virtual) thread, so a stalled client does not hold back the others.
        for (Subscriber subscriber : subscribers) {
            Thread.ofVirtual().name("exec-" + id + "-end").start(() -> subscriber.end(status));
        }
        subscribers.clear();
    }

    /** Where a relay puts a stream's output: upstream when the stream is tied there, else the buffer and attachments. */
    private OutputRelay.Sink sink(StdStream stream) {
        Optional<OutputStream> tied = upstream == null ? Optional.empty()
                : stream == StdStream.STDOUT ? upstream.stdout() : upstream.stderr();
        if (tied.isEmpty()) {
            return chunk -> publish(stream, chunk);
        }
        return new UpstreamSink(id, stream, tied.get(), stream == StdStream.STDOUT ? stdout : stderr);
    }

    /**
     * Records the end, then lets go of the upstream IO: a FIFO reader that sees the end of its file can read the
     * exit status at once, as an attachment that sees its stream close can.
     */
    private void endAndReleaseUpstream(ExitStatus status) {
        try {
            end(status);
        } finally {
            closeUpstream();
        }
    }

    private void closeUpstream() {
        if (upstream != null) {
            upstream.close();
        }
    }

    /** The paths of the upstream IO, or null without one. */
    UpstreamConnection.@Nullable Paths upstreamPaths() {
        return upstream == null ? recordedPaths : upstream.paths();
    }

    /** One chunk of output from a relay: retained, then handed to every attachment (which may block). */
    private void publish(StdStream stream, ByteBuffer chunk) {
        OutputBuffer buffer = stream == StdStream.STDOUT ? stdout : stderr;
        Iterator<Subscriber> targets;
        synchronized (buffer) {
            buffer.append(chunk);
            // Taken with the append, so an attachment sees each chunk once: in its replay or from here.
            targets = subscribers.iterator();
        }
        while (targets.hasNext()) {
            targets.next().deliver(stream, chunk);
        }
    }

    /**
     * Attaches a client: it first receives the retained output (stdout, then stderr), then new output, then the
     * end. A client attaching to an ended exec receives the retained output and the end at once.
     */
    Subscription attach(Attachment attachment) {
        Subscriber subscriber = new Subscriber(attachment);
        synchronized (lock) {
            attachments++; // counted now, so a client that leaves before its replay still counts as gone
            everAttached = true;
        }
        // The replay can take as long as the client is slow: it runs on a thread of its own, not the caller's.
        Thread.ofVirtual().name("exec-" + id + "-attach").start(() -> subscribe(subscriber));
        return subscriber;
    }

    private void subscribe(Subscriber subscriber) {
        subscriber.lock.lock(); // holds back new output until the replay has gone out
        try {
            if (subscriber.gone) {
                return;
            }
            OutputBuffer.Retained out;
            OutputBuffer.Retained err;
            ExitStatus endedWith;
            synchronized (stdout) {
                synchronized (stderr) {
                    out = stdout.retainedNow();
                    err = stderr.retainedNow();
                    synchronized (lock) {
                        endedWith = exit;
                        // Gone since the check above: its detach took it out of the list already, or would find
                        // it missing; adding it now would keep a dead client for the exec's life.
                        if (endedWith == null && !subscriber.gone) {
                            subscribers.add(subscriber);
                        }
                    }
                }
            }
            subscriber.replay(StdStream.STDOUT, out);
            subscriber.replay(StdStream.STDERR, err);
            if (endedWith != null) {
                subscriber.end(endedWith);
            }
            relaysOpen.complete(null); // new output now has a reader to wait for
        } finally {
            subscriber.lock.unlock();
        }
    }

    boolean everAttached() {
        return everAttached;
    }

    /** Clients attached now. */
    int attachmentCount() {
        synchronized (lock) {
            return attachments;
        }
    }

    /** An attachment went (or failed): forget it, and end an exec that lived for its attachments. */
    private void detached(Subscriber subscriber) {
        boolean last;
        synchronized (lock) {
            subscribers.remove(subscriber);
            attachments--;
            last = attachments == 0 && endsWithLastAttachment
                    && (state == ExecState.RUNNING || state == ExecState.CREATED);
        }
        if (last) {
            log.debug("exec {}: its last attachment went; terminating it", id);
            if (tty) {
                HostProcess running = runningProcess();
                if (running != null) {
                    try {
                        running.signal(Signal.SIGHUP); // what a terminal's hang-up sends, for shells that ignore TERM
                    } catch (IOException e) {
                        log.debug("exec {}: SIGHUP failed: {}", id, e.getMessage());
                    }
                }
            }
            terminate(ExitReason.KILLED);
        }
    }

    private boolean writeStdin(byte[] data, Duration patience) throws InterruptedException {
        StdinWriter writer = stdinWriter();
        return writer == null || writer.write(data, patience);
    }

    /**
     * Waits, parked, until the process has started or the exec has ended: at once, but for an exec still created
     * (a listen exec waiting for its client, a container's start under way).
     *
     * @return false when neither came within {@code within}
     */
    private boolean awaitStart(Duration within) throws InterruptedException {
        try {
            startedOrEnded.get(within.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true; // never completed exceptionally
        }
    }

    /** The exec's stdin writer, made on first use; null when the process has no stdin or has exited. */
    private @Nullable StdinWriter stdinWriter() {
        synchronized (lock) {
            if (stdinWriter == null && state == ExecState.RUNNING && !processExited && process != null
                    && process.stdin().isPresent()) {
                HostProcess running = process;
                stdinWriter = StdinWriter.of(id, running.stdin().get(), running::closeStdin, STDIN_QUEUE_BYTES);
            }
            return stdinWriter;
        }
    }

    /** One attachment: its lock keeps the replay, the output and the end in order and one at a time. */
    private final class Subscriber implements Subscription {
        private final Attachment attachment;
        private final ReentrantLock lock = new ReentrantLock();
        private volatile boolean gone;
        private volatile boolean stdinRefused;
        private final AtomicBoolean left = new AtomicBoolean();

        private Subscriber(Attachment attachment) {
            this.attachment = attachment;
        }

        void deliver(StdStream stream, ByteBuffer chunk) {
            lock.lock();
            try {
                if (!gone) {
                    attachment.output(stream, chunk);
                }
            } catch (IOException | RuntimeException e) {
                log.debug("exec {}: an attachment failed and is detached: {}", id, e.toString());
                detach();
            } finally {
                lock.unlock();
            }
        }

        /**
         * Sends retained output in chunks of {@link #REPLAY_CHUNK}, each with a spare byte in front, through one
         * array: an attachment holds a chunk of its own, not a copy of everything retained.
         */
        void replay(StdStream stream, OutputBuffer.Retained retained) {
            byte[] chunk = new byte[1 + Math.min(REPLAY_CHUNK, retained.length())];
            for (int from = 0; from < retained.length() && !gone; from += REPLAY_CHUNK) {
                int length = Math.min(REPLAY_CHUNK, retained.length() - from);
                retained.read(from, chunk, 1, length);
                deliver(stream, ByteBuffer.wrap(chunk, 1, length));
            }
        }

        void end(ExitStatus status) {
            lock.lock();
            try {
                if (!gone) {
                    gone = true;
                    attachment.ended(status);
                }
            } catch (RuntimeException e) {
                log.debug("exec {}: an attachment failed at the end: {}", id, e.toString());
            } finally {
                lock.unlock();
            }
        }

        /**
         * Once one part of this attachment's input could not be queued in time, it is dropped and so is everything
         * after it: a stream with a hole in it must not reach the process as if it were whole.
         */
        @Override
        public boolean writeStdin(byte[] data, Duration patience) throws InterruptedException {
            if (gone) {
                return true;
            }
            if (stdinRefused || !awaitStart(patience) || !Exec.this.writeStdin(data, patience)) {
                stdinRefused = true;
                return false;
            }
            return true;
        }

        /** Not after a refused part: the process would take a stream with a hole in it for the whole input. */
        @Override
        public void closeStdin() throws IOException {
            if (!gone && !stdinRefused && awaitStartQuietly()) {
                Exec.this.closeStdin();
            }
        }

        @Override
        public void resize(ConsoleSize size) throws IOException {
            if (!gone && tty && awaitStartQuietly()) {
                Exec.this.resize(size);
            }
        }

        private boolean awaitStartQuietly() {
            try {
                return awaitStart(START_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public void detach() {
            gone = true;
            if (left.compareAndSet(false, true)) {
                detached(this);
            }
        }

        @Override
        public String execId() {
            return id;
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
            if (processExited && !state.ended()) {
                // The process is gone; what holds the exec up is its output (a slow reader, an upstream reader
                // awaited within its retry budget, or one that takes nothing). Asked to end, the exec lets go of its
                // upstream once the process has had its copy-after-exit time: the drain guard, which first runs
                // when that time is up, sees it asked; past that time, or without one, at once. The relays then
                // drain. (The reason the exit recorded stays: it was taken when the process exited.)
                if (terminating == null) {
                    terminating = reason;
                }
                Duration drain = runtime.copyAfterExitTimeout();
                if (!drain.isPositive() || System.nanoTime() - processExitedNanos >= drain.toNanos()) {
                    closeUpstream();
                }
            }
            if (state.ended() || processExited || terminating != null) {
                return false;
            }
            terminating = reason;
            relaysOpen.complete(null);
            if (state == ExecState.CREATED) {
                // start() terminates the process as soon as it exists; one still waiting for its upstream
                // client never starts.
                if (upstream != null && upstream.waitsForClient()) {
                    upstream.close();
                }
                return true;
            }
            running = process;
            scheduleKill();
        }
        sendTerminate(running);
        return true;
    }

    private void scheduleKill() {
        killTask = runtime.schedule("exec-" + id + "-kill", this::kill, runtime.killGracePeriod().toNanos());
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

    /** Closes the process's stdin, after any input queued by attachments; false when the process is not running. */
    boolean closeStdin() throws IOException {
        HostProcess running = runningProcess();
        if (running == null) {
            return false;
        }
        // Through the writer, whose platform thread does it after any queued input: closing a terminal's input is
        // a write (Ctrl-D twice) that waits while the terminal is full, and a backend's close is a native call,
        // neither of which may hold the caller's (virtual) thread. The caller waits a little, parked, to hear of a
        // close that failed; one still queued behind input after that happens when the input has gone in.
        StdinWriter writer = stdinWriter();
        if (writer != null) {
            try {
                writer.close().get(CLOSE_STDIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                log.debug("exec {}: stdin closes once the input queued before it has gone in", id);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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

    /** Who asked for this exec. */
    public Caller caller() {
        return caller;
    }

    /** Bytes the process wrote to stdout and stderr. */
    public long stdoutBytes() {
        return stdout.total();
    }

    public long stderrBytes() {
        return stderr.total();
    }

    /** How it ended, or null while it runs. */
    public @Nullable ExitStatus exit() {
        return snapshot().exit();
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
