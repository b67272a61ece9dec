package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The exec life without Spring and without real processes. */
class ExecTest {

    private static final ProcessSpec SPEC = new ProcessSpec(List.of("cmd"), List.of(), null, null, false, null,
            false, true, true);
    private final ScheduledThreadPoolExecutor timer = timer();
    private final FakeHostProcess process = new FakeHostProcess();
    private final AtomicReference<Exec.Snapshot> seenByListener = new AtomicReference<>();

    /** As the service's: a cancelled task (a drain guard of a drained exec) leaves the queue and what it holds. */
    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void runsThenExitsWithOutputCompleteAndStatusRecordedBeforeTheEnd() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ZERO);
        assertThat(exec.snapshot().state()).isEqualTo(ExecState.CREATED);
        exec.start(process.host(), SPEC, null);
        assertThat(exec.snapshot().state()).isEqualTo(ExecState.RUNNING);
        assertThat(exec.snapshot().pid()).isEqualTo(4242);

        process.stdout.write("hello ");
        process.stderr.write("oops");
        process.stdout.write("world");
        process.exitWith(ExitStatus.exited(3, Instant.now()));

        Exec ended = exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(new String(OutputBuffers.bytes(ended.stdout()), StandardCharsets.UTF_8)).isEqualTo("hello world");
        assertThat(new String(OutputBuffers.bytes(ended.stderr()), StandardCharsets.UTF_8)).isEqualTo("oops");
        Exec.Snapshot end = ended.snapshot();
        assertThat(end.state()).isEqualTo(ExecState.EXITED);
        assertThat(end.exit().exitCode()).isEqualTo(3);
        assertThat(end.exit().reason()).isEqualTo(ExitReason.EXITED);
        assertThat(seenByListener.get().exit()).as("status recorded before the listener hears of the end").isNotNull();
        assertThat(process.closed).isTrue();
    }

    @Test
    void anEndedExecLetsGoOfItsProcess() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ZERO);
        FakeHostProcess own = new FakeHostProcess();
        exec.start(own.host(), SPEC, null);
        own.stdout.write("output");
        own.exitWith(ExitStatus.exited(0, Instant.now()));
        exec.ended().get(5, TimeUnit.SECONDS);
        // The record stays for its retention; the process and its streams (a pipe's stream keeps the array it
        // last read into, 64 KiB) must not stay with it.
        java.lang.ref.WeakReference<FakeHostProcess> gone = new java.lang.ref.WeakReference<>(own);
        own = null;
        for (int i = 0; i < 50 && gone.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(gone.get()).as("the ended exec's process, once nothing else holds it").isNull();
        assertThat(new String(OutputBuffers.bytes(exec.stdout()), StandardCharsets.UTF_8)).isEqualTo("output");
    }

    @Test
    void staysRunningWhileOutputDrainsAfterTheProcessExited() throws Exception {
        Exec exec = exec(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.exit.complete(ExitStatus.exited(0, Instant.now()));
        Thread.sleep(200);
        assertThat(exec.snapshot().state()).isEqualTo(ExecState.RUNNING);
        assertThat(exec.snapshot().exit()).isNull();
        assertThat(exec.signal(Signal.SIGTERM)).as("no signals once the process has exited").isFalse();

        process.stdout.write("late output");
        process.stdout.end();
        process.stderr.end();
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(new String(OutputBuffers.bytes(exec.stdout()), StandardCharsets.UTF_8)).isEqualTo("late output");
        assertThat(exec.snapshot().state()).isEqualTo(ExecState.EXITED);
    }

    @Test
    void closesStreamsAGrandchildKeepsOpenAfterTheCopyAfterExitTimeout() throws Exception {
        Exec exec = exec(Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.stdout.write("partial");
        long exitedAt = System.nanoTime();
        process.exit.complete(ExitStatus.exited(0, Instant.now()));

        exec.ended().get(5, TimeUnit.SECONDS);
        long waitedMillis = (System.nanoTime() - exitedAt) / 1_000_000;
        assertThat(waitedMillis).isGreaterThanOrEqualTo(250);
        assertThat(process.closed).isTrue();
        assertThat(exec.snapshot().exit().exitCode()).isZero();
        assertThat(new String(OutputBuffers.bytes(exec.stdout()), StandardCharsets.UTF_8)).isEqualTo("partial");
    }

    /**
     * The copy-after-exit guard closes only a stream that holds nothing the process wrote before it exited: a relay
     * slow to get to the next read (not sending anything at that moment) with bytes still in its pipe is waited for.
     */
    @Test
    void aRelayBehindWithOutputStillInItsPipeIsNotCutAtTheCopyAfterExitTimeout() throws Exception {
        process.stdout.readDelayMillis = 60;
        Exec exec = exec(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        String piece = "x".repeat(99) + "\n";
        for (int i = 0; i < 10; i++) {
            process.stdout.write(piece);
        }
        process.exit.complete(ExitStatus.exited(0, Instant.now()));

        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(new String(OutputBuffers.bytes(exec.stdout()), StandardCharsets.UTF_8))
                .as("all ten pieces written before the exit").isEqualTo(piece.repeat(10));
        assertThat(process.closed).as("then closed: nothing more came").isTrue();
    }

    @Test
    void zeroCopyAfterExitTimeoutWaitsForTheOutputForEver() throws Exception {
        Exec exec = exec(Duration.ZERO, Duration.ofSeconds(5), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.exit.complete(ExitStatus.exited(0, Instant.now()));
        Thread.sleep(500);
        assertThat(exec.ended()).isNotDone();
        process.stdout.end();
        process.stderr.end();
        exec.ended().get(5, TimeUnit.SECONDS);
    }

    @Test
    void timeoutTerminatesAndReportsTimeout() throws Exception {
        process.exitsOnTerminate = true;
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMillis(200));
        exec.start(process.host(), SPEC, null);
        exec.ended().get(5, TimeUnit.SECONDS);
        ExitStatus exit = exec.snapshot().exit();
        assertThat(exit.reason()).isEqualTo(ExitReason.TIMEOUT);
        assertThat(exit.signal()).isEqualTo("SIGTERM");
        assertThat(exit.exitCode()).isEqualTo(143);
        assertThat(process.terminations).hasValue(1);
        assertThat(process.kills).as("no SIGKILL for a process that obeyed SIGTERM").hasValue(0);
    }

    @Test
    void aProcessIgnoringSigtermIsKilledAfterTheGracePeriod() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofMillis(100));
        exec.start(process.host(), SPEC, null);
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(process.terminations).hasValue(1);
        assertThat(process.kills).hasValue(1);
        ExitStatus exit = exec.snapshot().exit();
        assertThat(exit.reason()).isEqualTo(ExitReason.TIMEOUT);
        assertThat(exit.signal()).isEqualTo("SIGKILL");
        assertThat(exit.exitCode()).isEqualTo(137);
    }

    @Test
    void terminateIsANoOpOnceEndedOrAlreadyUnderway() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        assertThat(exec.terminate(ExitReason.KILLED)).isTrue();
        assertThat(exec.terminate(ExitReason.KILLED)).isFalse();
        process.exitWith(ExitStatus.signaled(Signal.SIGTERM, Instant.now()));
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(exec.terminate(ExitReason.KILLED)).isFalse();
        assertThat(process.terminations).hasValue(1);
    }

    @Test
    void aTerminationAskedForWhileStartingHappensOnceTheProcessExists() throws Exception {
        process.exitsOnTerminate = true;
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        assertThat(exec.terminate(ExitReason.KILLED)).isTrue();
        exec.start(process.host(), SPEC, null);
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(process.terminations).hasValue(1);
        assertThat(exec.snapshot().exit().signal()).isEqualTo("SIGTERM");
    }

    @Test
    void signalsReachTheRunningProcess() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        assertThat(exec.signal(Signal.parse("USR1"))).isTrue();
        assertThat(process.signals).containsExactly(Signal.parse("SIGUSR1"));
    }

    /**
     * Closing stdin happens on the stdin writer's platform thread, after what was queued before it: a terminal's
     * close is a write that can wait, which must not hold the caller's (virtual) thread.
     */
    @Test
    void stdinClosesAfterTheInputBeforeItOnTheWritersOwnThread() throws Exception {
        process.withStdin = true;
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        process.stdinGate = reading; // the process takes its input only once the test lets it
        RecordingAttachment attachment = new RecordingAttachment();
        assertThat(exec.attach(attachment).writeStdin("input".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(1)))
                .isTrue();
        Thread caller = Thread.currentThread();
        AtomicReference<Thread> closer = new AtomicReference<>();
        AtomicReference<Integer> inputAtClose = new AtomicReference<>();
        process.onCloseStdin = () -> {
            closer.set(Thread.currentThread());
            inputAtClose.set(process.stdinLength());
        };
        assertThat(exec.closeStdin()).as("queued behind the input: answered after a short wait").isTrue();
        assertThat(process.stdinClosed).as("not before the input").isFalse();
        reading.countDown();
        for (int i = 0; i < 250 && !process.stdinClosed.get(); i++) {
            Thread.sleep(20);
        }
        assertThat(process.stdinClosed).isTrue();
        assertThat(inputAtClose.get()).as("the input went in first").isEqualTo(5);
        assertThat(closer.get()).isNotSameAs(caller);
        assertThat(closer.get().isVirtual()).isFalse();
    }

    /** A close of stdin that fails in the backend is the caller's to hear of (a 503 from the API). */
    @Test
    void aFailedCloseOfStdinIsReported() throws Exception {
        process.withStdin = true;
        process.onCloseStdin = () -> {
            throw new java.io.UncheckedIOException(new java.io.IOException("HcsModifyProcess failed (a test)"));
        };
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        assertThatExceptionOfType(java.io.IOException.class).isThrownBy(exec::closeStdin)
                .withMessageContaining("HcsModifyProcess failed");
    }

    /**
     * An attachment whose input part could not be queued in time (the process does not read) has that part
     * dropped, and then every later part too, even once there is room again: the process never sees a stream
     * with a hole in it.
     */
    @Test
    void afterOneInputPartIsRefusedTheAttachmentsLaterInputIsRefusedToo() throws Exception {
        process.withStdin = true;
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        process.stdinGate = reading;
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        RecordingAttachment attachment = new RecordingAttachment();
        Subscription subscription = exec.attach(attachment);
        byte[] mebibyte = new byte[1024 * 1024];
        assertThat(subscription.writeStdin(mebibyte, Duration.ofSeconds(1))).as("queued: the writer holds it").isTrue();
        assertThat(subscription.writeStdin("hole".getBytes(StandardCharsets.UTF_8), Duration.ofMillis(200)))
                .as("no room: the queue is full and the process reads nothing").isFalse();
        reading.countDown(); // the process reads again: room for everything
        for (int i = 0; i < 250 && process.stdinLength() < mebibyte.length; i++) {
            Thread.sleep(20);
        }
        assertThat(process.stdinLength()).isEqualTo(mebibyte.length);
        assertThat(subscription.writeStdin("after".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(1)))
                .as("refused: it would follow the hole").isFalse();
        subscription.closeStdin(); // nor is its end passed on: the process would take what it got for the whole
        Thread.sleep(200);
        assertThat(process.stdinLength()).as("the part before the hole, nothing after").isEqualTo(mebibyte.length);
        assertThat(process.stdinClosed).as("stdin left open").isFalse();
    }

    @Test
    void aStartFailureIsRecordedAsFailedWithTheShellsExitCode() {
        Exec exec = exec(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ZERO);
        StartFailure notFound = new StartFailure(StartFailure.Kind.EXECUTABLE_NOT_FOUND, "exec: \"nope\": not found");
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> exec.start(FakeHostProcess.failing(notFound), SPEC, null));
        Exec.Snapshot failed = exec.snapshot();
        assertThat(failed.state()).isEqualTo(ExecState.FAILED);
        assertThat(failed.exit().reason()).isEqualTo(ExitReason.START_FAILED);
        assertThat(failed.exit().exitCode()).isEqualTo(127);
        assertThat(failed.exit().error()).contains("nope");
        assertThat(exec.ended()).isDone();
        assertThat(seenByListener.get()).isNotNull();
    }

    @Test
    void aLostProcessEndsUnknown() throws Exception {
        Exec exec = exec(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.exit.completeExceptionally(new IllegalStateException("backend gone"));
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(exec.snapshot().state()).isEqualTo(ExecState.UNKNOWN);
        assertThat(exec.snapshot().exit().reason()).isEqualTo(ExitReason.LOST);
        assertThat(exec.snapshot().exit().exitCode()).isNull();
    }

    @Test
    void anAttachmentGetsTheReplayThenNewOutputThenTheEndInOrder() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.stdout.write("one ");
        awaitRetained(exec, 4);
        RecordingAttachment attachment = new RecordingAttachment();
        exec.attach(attachment);
        awaitText(attachment, "one ");
        process.stdout.write("two ");
        process.stderr.write("err");
        process.stdout.write("three");
        process.exitWith(ExitStatus.exited(2, Instant.now()));
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(attachment.end.get(5, TimeUnit.SECONDS).exitCode()).isEqualTo(2);
        assertThat(attachment.stdout()).isEqualTo("one two three");
        assertThat(attachment.stderr()).isEqualTo("err");
        assertThat(attachment.events.getLast()).isEqualTo("end:2");
    }

    @Test
    void attachingToAnEndedExecReplaysItAndEndsAtOnce() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        process.stdout.write("all of it");
        process.exitWith(ExitStatus.exited(0, Instant.now()));
        exec.ended().get(5, TimeUnit.SECONDS);
        RecordingAttachment late = new RecordingAttachment();
        exec.attach(late);
        late.end.get(5, TimeUnit.SECONDS);
        assertThat(late.stdout()).isEqualTo("all of it");
        assertThat(late.events.getLast()).isEqualTo("end:0");
    }

    @Test
    void anAttachmentThatFailsIsDetachedAndTheOthersGoOn() throws Exception {
        Exec exec = exec(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ZERO);
        exec.start(process.host(), SPEC, null);
        RecordingAttachment broken = new RecordingAttachment();
        broken.failing = true;
        RecordingAttachment fine = new RecordingAttachment();
        exec.attach(broken);
        exec.attach(fine);
        awaitAttached(exec, 2);
        process.stdout.write("data");
        process.exitWith(ExitStatus.exited(0, Instant.now()));
        exec.ended().get(5, TimeUnit.SECONDS);
        fine.end.get(5, TimeUnit.SECONDS);
        assertThat(fine.stdout()).isEqualTo("data");
        assertThat(broken.events).doesNotContain("end:0");
        assertThat(process.terminations).as("a REST-created exec outlives its attachments").hasValue(0);
    }

    @Test
    void anExecStartedForItsAttachmentsHoldsItsOutputUntilOneComesAndEndsWhenTheLastGoes() throws Exception {
        process.exitsOnTerminate = true;
        Exec exec = new Exec("e_onestep", new TargetRef(TargetKind.HOST, "test"), List.of("cmd"), false, true,
                Duration.ZERO, new OutputBuffer(4, OutputBuffer.Policy.KEEP_NEWEST),
                new OutputBuffer(4, OutputBuffer.Policy.KEEP_NEWEST),
                new ExecRuntime(timer, Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(30)), e -> { }, true, Caller.SERVICE, null,
                Instant.now());
        exec.start(process.host(), SPEC, null);
        process.stdout.write("more than the buffer holds");
        Thread.sleep(200);
        assertThat(exec.stdout().total()).as("nothing read before an attachment").isZero();
        RecordingAttachment first = new RecordingAttachment();
        RecordingAttachment second = new RecordingAttachment();
        Subscription one = exec.attach(first);
        Subscription two = exec.attach(second);
        awaitRetained(exec, 26);
        awaitText(first, "more than the buffer holds");
        one.detach();
        assertThat(process.terminations).hasValue(0);
        two.detach();
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(process.terminations).hasValue(1);
        assertThat(exec.snapshot().exit().signal()).isEqualTo("SIGTERM");
    }

    @Test
    void aClientLeavingBeforeItsReplayStillEndsAnExecStartedForIt() throws Exception {
        process.exitsOnTerminate = true;
        Exec exec = new Exec("e_gone", new TargetRef(TargetKind.HOST, "test"), List.of("cmd"), false, true,
                Duration.ZERO, new OutputBuffer(4, OutputBuffer.Policy.KEEP_NEWEST),
                new OutputBuffer(4, OutputBuffer.Policy.KEEP_NEWEST),
                new ExecRuntime(timer, Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(30)), e -> { }, true, Caller.SERVICE, null,
                Instant.now());
        exec.start(process.host(), SPEC, null);
        for (int i = 0; i < 20; i++) {
            exec.attach(new RecordingAttachment()).detach(); // races the attach thread on purpose
        }
        exec.ended().get(5, TimeUnit.SECONDS);
        assertThat(process.terminations).hasValue(1);
    }

    private static void awaitRetained(Exec exec, long bytes) throws InterruptedException {
        for (int i = 0; i < 250 && exec.stdout().total() < bytes; i++) {
            Thread.sleep(20);
        }
        assertThat(exec.stdout().total()).as("output retained in time").isGreaterThanOrEqualTo(bytes);
    }

    private static void awaitText(RecordingAttachment attachment, String text) throws InterruptedException {
        for (int i = 0; i < 250 && !attachment.stdout().equals(text); i++) {
            Thread.sleep(20);
        }
        assertThat(attachment.stdout()).isEqualTo(text);
    }

    /** Attaching happens on a thread of its own; the subscribers list shows when it is done. */
    private static void awaitAttached(Exec exec, int count) throws Exception {
        var field = Exec.class.getDeclaredField("subscribers");
        field.setAccessible(true);
        for (int i = 0; i < 250 && ((List<?>) field.get(exec)).size() < count; i++) {
            Thread.sleep(20);
        }
        assertThat((List<?>) field.get(exec)).hasSize(count);
    }

    /** Records what an attachment is told, in order. */
    private static final class RecordingAttachment implements Attachment {
        final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        final StringBuilder out = new StringBuilder();
        final StringBuilder err = new StringBuilder();
        final java.util.concurrent.CompletableFuture<ExitStatus> end = new java.util.concurrent.CompletableFuture<>();
        volatile boolean failing;

        @Override
        public void output(StdStream stream, java.nio.ByteBuffer data) throws java.io.IOException {
            if (failing) {
                throw new java.io.IOException("client gone");
            }
            assertThat(data.position()).as("room for a header").isGreaterThanOrEqualTo(1);
            String text = StandardCharsets.UTF_8.decode(data.duplicate()).toString();
            synchronized (this) {
                (stream == StdStream.STDOUT ? out : err).append(text);
            }
            events.add(stream + ":" + text);
        }

        @Override
        public void ended(ExitStatus status) {
            events.add("end:" + status.exitCode());
            end.complete(status);
        }

        synchronized String stdout() {
            return out.toString();
        }

        synchronized String stderr() {
            return err.toString();
        }
    }

    private Exec exec(Duration copyAfterExit, Duration grace, Duration timeout) {
        ExecRuntime runtime = new ExecRuntime(timer, Clock.systemUTC(), copyAfterExit, grace);
        return new Exec("e_test", new TargetRef(TargetKind.HOST, "test"), List.of("cmd"), false, false, timeout,
                new OutputBuffer(1024, OutputBuffer.Policy.KEEP_NEWEST),
                new OutputBuffer(1024, OutputBuffer.Policy.KEEP_NEWEST), runtime,
                ended -> seenByListener.set(ended.snapshot()));
    }
}
