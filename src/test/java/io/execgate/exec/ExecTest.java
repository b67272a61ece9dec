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
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
    private final FakeHostProcess process = new FakeHostProcess();
    private final AtomicReference<Exec.Snapshot> seenByListener = new AtomicReference<>();

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
        assertThat(new String(ended.stdout().snapshot(), StandardCharsets.UTF_8)).isEqualTo("hello world");
        assertThat(new String(ended.stderr().snapshot(), StandardCharsets.UTF_8)).isEqualTo("oops");
        Exec.Snapshot end = ended.snapshot();
        assertThat(end.state()).isEqualTo(ExecState.EXITED);
        assertThat(end.exit().exitCode()).isEqualTo(3);
        assertThat(end.exit().reason()).isEqualTo(ExitReason.EXITED);
        assertThat(seenByListener.get().exit()).as("status recorded before the listener hears of the end").isNotNull();
        assertThat(process.closed).isTrue();
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
        assertThat(new String(exec.stdout().snapshot(), StandardCharsets.UTF_8)).isEqualTo("late output");
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
        assertThat(new String(exec.stdout().snapshot(), StandardCharsets.UTF_8)).isEqualTo("partial");
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
        assertThat(exec.closeStdin()).isTrue();
        assertThat(process.signals).containsExactly(Signal.parse("SIGUSR1"));
        assertThat(process.stdinClosed).isTrue();
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

    private Exec exec(Duration copyAfterExit, Duration grace, Duration timeout) {
        ExecRuntime runtime = new ExecRuntime(timer, Clock.systemUTC(), copyAfterExit, grace);
        return new Exec("e_test", new TargetRef(TargetKind.HOST, "test"), List.of("cmd"), false, false, timeout,
                new OutputBuffer(1024, OutputBuffer.Policy.KEEP_NEWEST),
                new OutputBuffer(1024, OutputBuffer.Policy.KEEP_NEWEST), runtime,
                ended -> seenByListener.set(ended.snapshot()));
    }
}
