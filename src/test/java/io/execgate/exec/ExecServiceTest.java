package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.DataDirectory;
import io.execgate.upstream.UpstreamPlan;
import io.execgate.upstream.UpstreamProperties;
import io.execgate.upstream.Upstreams;
import io.execgate.host.BackendStatus;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import io.execgate.host.TargetRef;
import io.execgate.host.Targets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** The service's bookkeeping: a running slot is taken once and given back once, whatever happens at start. */
class ExecServiceTest {

    private static final TargetRef HOST = new TargetRef(TargetKind.HOST, "test");
    private static final ExecRequest SLEEP = new ExecRequest(List.of("sleep", "60"), null, null, null, null, null, null,
            null, null);
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path upstreamDir;
    private DataDirectory data;
    private static final int PER_PRINCIPAL = 2;
    private Supplier<HostProcess> next = FakeHostProcess::new;
    private Caller caller = new Caller("alice", "10.0.0.1", true);
    private final List<String> observed = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ExecObserver events = new ExecObserver() {
        @Override
        public void started(Exec exec, List<String> env, String user, String workingDir, UpstreamPlan upstream) {
            observed.add("start " + exec.id() + " " + exec.caller().principal() + " " + env);
        }

        @Override
        public void ended(Exec exec) {
            observed.add("end " + exec.id() + " " + exec.exit().reason().value());
        }

        @Override
        public void refused(Caller who, TargetRef target, List<String> command, String reason) {
            observed.add("refused " + who.principal() + " " + command + ": " + reason);
        }
    };

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
        if (data != null) {
            data.close();
        }
    }

    @Test
    void aStartFailureGivesTheSlotBackAndKeepsAFailedRecord() {
        ProcessHost failing = FakeHostProcess.failing(new StartFailure(StartFailure.Kind.EXECUTABLE_NOT_FOUND, "nope"));
        ExecService withFailingHost = service(1, failing);
        ApiException failure = catchApi(() -> withFailingHost.create(HOST, SLEEP));
        assertThat(failure.code()).isEqualTo(ErrorCode.EXEC_START_FAILED);
        String id = (String) failure.properties().get("execId");
        assertThat(withFailingHost.get(id).snapshot().state()).isEqualTo(ExecState.FAILED);
        assertThat(catchApi(() -> withFailingHost.create(HOST, SLEEP)).code())
                .as("the slot came back, so this is a start failure again and not 429").isEqualTo(ErrorCode.EXEC_START_FAILED);
    }

    @Test
    void aBackendThatDeniesAccessIsAStartFailureNotAForbiddenToken() {
        ExecService denying = service(1, FakeHostProcess.failing(new StartFailure(StartFailure.Kind.ACCESS_DENIED,
                "access is denied")));
        ApiException failure = catchApi(() -> denying.create(HOST, SLEEP));
        assertThat(failure.code()).isEqualTo(ErrorCode.EXEC_START_FAILED);
        assertThat(failure.properties()).containsKey("execId");
    }

    @Test
    void anUnexpectedBackendErrorGivesTheSlotBackToo() {
        ProcessHost broken = new ProcessHost() {
            @Override
            public TargetRef target() {
                return HOST;
            }

            @Override
            public HostProcess start(ProcessSpec spec) {
                throw new IllegalArgumentException("boom");
            }
        };
        ExecService service = service(1, broken);
        // not a bare 500: which exec, and that the client may try again
        ApiException failure = catchApi(() -> service.create(HOST, SLEEP));
        assertThat(failure.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
        assertThat(failure.getMessage()).contains("boom");
        assertThat(service.get((String) failure.properties().get("execId")).snapshot().state()).isEqualTo(ExecState.FAILED);
        assertThat(catchApi(() -> service.create(HOST, SLEEP)).code()).as("not 429: the slot came back")
                .isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
        assertThat(service.list(null, null, ExecState.FAILED, 10)).hasSize(2)
                .allSatisfy(e -> assertThat(e.snapshot().exit().error()).contains("boom"));
    }

    @Test
    void slotsAreTakenByRunningExecsAndGivenBackWhenTheyEnd() throws Exception {
        FakeHostProcess first = new FakeHostProcess();
        next = () -> first;
        ExecService service = service(1);
        Exec running = service.create(HOST, SLEEP);
        assertThat(catchApi(() -> service.create(HOST, SLEEP)).code()).isEqualTo(ErrorCode.TOO_MANY_EXECS);
        first.exitWith(ExitStatus.exited(0, Instant.now()));
        running.ended().get(5, TimeUnit.SECONDS);
        next = FakeHostProcess::new;
        assertThat(service.create(HOST, SLEEP).snapshot().state()).isEqualTo(ExecState.RUNNING);
    }

    /** Polls of a long-running exec's exit that time out leave nothing on it, however many there are. */
    @Test
    void exitWaitsThatTimeOutLeaveNothingBehind() throws Exception {
        FakeHostProcess process = new FakeHostProcess();
        next = () -> process;
        ExecService service = service(1);
        Exec running = service.create(HOST, SLEEP);
        int before = running.ended().getNumberOfDependents();
        for (int i = 0; i < 1_000; i++) {
            assertThat(service.awaitEnd(running.id(), Duration.ofNanos(1_000))).isNull();
        }
        assertThat(running.ended().getNumberOfDependents()).isLessThanOrEqualTo(before);
        process.exitWith(ExitStatus.exited(0, Instant.now()));
        assertThat(service.awaitEnd(running.id(), Duration.ofSeconds(5))).isSameAs(running);
    }

    @Test
    void aControlWhileTheLastOutputIsCopiedSaysTheProcessHasExited() throws Exception {
        FakeHostProcess process = new FakeHostProcess();
        next = () -> process;
        ExecService service = service(1);
        Exec exec = service.create(HOST, SLEEP);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        timer.execute(() -> { // the copy-after-exit guard runs on this timer: held, the exec stays in its drain
            try {
                held.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            process.exit.complete(ExitStatus.exited(0, Instant.now())); // its stdout stays open, as a grandchild's
            assertThat(exec.snapshot().state()).isEqualTo(ExecState.RUNNING);
            ApiException refused = catchApi(() -> service.signal(exec.id(), io.execgate.host.Signal.SIGTERM));
            assertThat(refused.code()).isEqualTo(ErrorCode.EXEC_NOT_RUNNING);
            assertThat(refused.getMessage()).contains("process has exited").doesNotContain("is running");
        } finally {
            held.countDown();
        }
    }

    @Test
    void aTimeoutStuckInItsBackendHoldsUpNoOtherExecsTimeout() throws Exception {
        FakeHostProcess wedged = new FakeHostProcess();
        wedged.terminateGate = new java.util.concurrent.CountDownLatch(1); // a UVM agent that takes no frames
        FakeHostProcess healthy = new FakeHostProcess();
        java.util.Iterator<FakeHostProcess> processes = List.of(wedged, healthy).iterator();
        next = processes::next;
        ExecService service = service(2);
        ExecRequest inOneSecond = new ExecRequest(List.of("sleep", "60"), null, null, null, null, null, null, 1, null);
        service.create(HOST, inOneSecond);
        caller = new Caller("bob", "10.0.0.2", true);
        Thread.sleep(100); // the wedged exec's timeout comes first
        service.create(HOST, inOneSecond);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (healthy.terminations.get() == 0) {
                assertThat(System.nanoTime()).as("the second exec's timeout fired while the first's hangs")
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(wedged.terminations).as("still stuck in its backend").hasValue(0);
        } finally {
            wedged.terminateGate.countDown();
        }
    }

    @Test
    void shutdownStopsDeletedExecsThatStillRun() throws Exception {
        FakeHostProcess stubborn = new FakeHostProcess(); // ignores SIGTERM: only SIGKILL ends it
        next = () -> stubborn;
        ExecService service = service(4);
        caller = new Caller("ops", null, true);
        Exec exec = service.create(HOST, SLEEP);
        service.delete(exec.id());
        assertThat(stubborn.terminations).hasValue(1);
        assertThat(exec.ended()).isNotDone();
        service.shutdown();
        assertThat(stubborn.kills).hasValue(1);
        assertThat(exec.ended()).isDone();
    }

    @Test
    void anIoNamingAMissingFifoFailsToStartAndABadOneIsRefused() {
        ExecService service = service(1);
        ExecRequest missing = new ExecRequest(List.of("ls"), null, null, null, null, null, null, null,
                new UpstreamIo(null, upstreamDir.resolve("no-such-fifo").toString(), null, null));
        ApiException failed = catchApi(() -> service.create(HOST, missing));
        assertThat(failed.code()).isEqualTo(ErrorCode.EXEC_START_FAILED);
        assertThat(failed.getMessage()).contains("no-such-fifo", "does not exist");
        ExecRequest relative = new ExecRequest(List.of("ls"), null, null, null, null, null, null, null,
                new UpstreamIo(null, "fifo", null, null));
        assertThat(catchApi(() -> service.create(HOST, relative)).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        ExecRequest nullIo = new ExecRequest(List.of("ls"), null, null, null, null, null, null, null,
                new UpstreamIo(null, null, null, null));
        assertThat(service.create(HOST, nullIo).snapshot().state()).isEqualTo(ExecState.RUNNING);
    }

    @Test
    void aListenExecWithNoThreadToWaitForItsClientFailsAndGivesBackItsSlotAndFifos() throws Exception {
        ExecService service = service(1);
        service.backgroundStarts = (name, task) -> {
            throw new java.util.concurrent.RejectedExecutionException(name + ": every pooled thread is busy");
        };
        ExecRequest listen = new ExecRequest(List.of("cat"), null, null, null, null, null, null, null,
                new UpstreamIo("listen", "listen", null, null));
        ApiException refused = catchApi(() -> service.create(HOST, listen));
        assertThat(refused.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
        assertThat(refused.getMessage()).contains("every pooled thread is busy");
        String id = (String) refused.properties().get("execId");
        Exec failed = service.get(id);
        assertThat(failed.snapshot().state()).isEqualTo(ExecState.FAILED);
        assertThat(failed.ended()).isDone();
        assertThat(observed).contains("end " + id + " " + failed.exit().reason().value());
        try (var files = java.nio.file.Files.walk(upstreamDir)) {
            assertThat(files.filter(p -> java.nio.file.Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && !java.nio.file.Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && !java.nio.file.Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList())
                    .as("no FIFO left").isEmpty();
        }
        assertThat(service.create(HOST, SLEEP).snapshot().state())
                .as("the running slot came back (max-running is 1)").isEqualTo(ExecState.RUNNING);
    }

    @Test
    void aListenExecEndedWhileItWaitsForItsClientIsRecordedAsKilledNotFailed() throws Exception {
        java.util.concurrent.atomic.AtomicInteger spawned = new java.util.concurrent.atomic.AtomicInteger();
        next = () -> {
            spawned.incrementAndGet();
            return new FakeHostProcess();
        };
        ExecService service = service(1);
        Exec waiting = service.create(HOST, new ExecRequest(List.of("cat"), null, null, null, null, null, null, null,
                new UpstreamIo(null, "listen", null, null)));
        assertThat(waiting.snapshot().state()).isEqualTo(ExecState.CREATED);
        service.terminateAll(); // the shutdown's first step: the record stays, so how it ended is what a restart shows
        Exec ended = waiting.ended().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(ended.snapshot().state()).isEqualTo(ExecState.EXITED);
        assertThat(ended.exit().reason()).isEqualTo(ExitReason.KILLED);
        assertThat(ended.exit().exitCode()).isNull();
        assertThat(ended.exit().error()).contains("before its command started");
        assertThat(observed).contains("end " + waiting.id() + " killed");
        assertThat(spawned).as("the command never ran").hasValue(0);
        assertThat(service.create(HOST, SLEEP).snapshot().state())
                .as("the running slot came back (max-running is 1)").isEqualTo(ExecState.RUNNING);
    }

    @Test
    void theSweepRunsOffTheTimerOneAtATimeSoAStalledStoreHoldsUpNoTimerTask() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch deleting = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger deletes = new java.util.concurrent.atomic.AtomicInteger();
        ExecStore stalling = new ExecStore() {
            @Override
            public List<ExecRecord> loadAll() {
                return List.of();
            }

            @Override
            public void save(ExecRecord record) {
            }

            @Override
            public void delete(String id) {
                deletes.incrementAndGet();
                deleting.countDown();
                try {
                    release.await(); // a disk that does not answer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        FakeHostProcess process = new FakeHostProcess();
        next = () -> process;
        ExecService service = service(4, fakeHost(), new ExecRegistry(100, Duration.ofMillis(1), Long.MAX_VALUE, stalling));
        Exec exec = service.create(HOST, SLEEP);
        process.exitWith(ExitStatus.exited(0, java.time.Instant.now()));
        exec.ended().get(5, java.util.concurrent.TimeUnit.SECONDS);
        Thread.sleep(5); // past its retention of 1 ms
        try {
            java.util.concurrent.CompletableFuture<Void> timerTask = java.util.concurrent.CompletableFuture.runAsync(
                    service::sweepOffTimer, timer);
            timerTask.get(5, java.util.concurrent.TimeUnit.SECONDS); // returned while the store stalls
            assertThat(deleting.await(5, java.util.concurrent.TimeUnit.SECONDS)).as("the sweep runs elsewhere").isTrue();
            java.util.concurrent.CompletableFuture.runAsync(service::sweepOffTimer, timer)
                    .get(5, java.util.concurrent.TimeUnit.SECONDS);
            Thread.sleep(100);
            assertThat(deletes).as("no second sweep piles up behind the stalled one").hasValue(1);
        } finally {
            release.countDown();
        }
        assertThat(catchApi(() -> service.get(exec.id())).code()).isEqualTo(ErrorCode.EXEC_NOT_FOUND);
    }

    @Test
    void anExecTheRecordsHaveNoRoomForIsRefusedAuditedAndGivesItsSlotBack() {
        ExecService service = service(3, fakeHost(), 2);
        service.create(HOST, SLEEP);
        caller = new Caller("bob", "10.0.0.2", true);
        service.create(HOST, SLEEP);
        caller = new Caller("carol", "10.0.0.3", true);
        ApiException full = catchApi(() -> service.create(HOST, SLEEP));
        assertThat(full.code()).isEqualTo(ErrorCode.TOO_MANY_EXECS);
        assertThat(observed).filteredOn(line -> line.startsWith("refused")).singleElement().asString()
                .startsWith("refused carol [sleep, 60]: ");
        assertThat(service.list(null, null, ExecState.RUNNING, 10)).hasSize(2);
    }

    @Test
    void upstreamIoThatCannotBePreparedIsAStartFailureWithARecord() throws Exception {
        ExecService service = service(1);
        // Where the FIFOs' directories go is a file: the listen FIFOs cannot be made
        java.nio.file.Path dirs = upstreamDir.resolve("upstream");
        if (java.nio.file.Files.isDirectory(dirs)) {
            java.nio.file.Files.delete(dirs);
        }
        java.nio.file.Files.writeString(dirs, "in the way");
        ExecRequest listen = new ExecRequest(List.of("cat"), null, null, null, null, null, null, null,
                new UpstreamIo(null, "listen", null, null));
        ApiException failed = catchApi(() -> service.create(HOST, listen));
        assertThat(failed.code()).isEqualTo(ErrorCode.EXEC_START_FAILED);
        assertThat(failed.getMessage()).startsWith("upstream IO: ");
        String id = (String) failed.properties().get("execId");
        assertThat(id).as("the failed exec's id, as for any start failure").isNotNull();
        assertThat(service.get(id).snapshot().state()).isEqualTo(ExecState.FAILED);
        assertThat(observed).contains("end " + id + " start-failed");
        assertThat(service.create(HOST, SLEEP).snapshot().state()).as("the slot came back").isEqualTo(ExecState.RUNNING);
    }

    @Test
    void onePrincipalMayRunOnlyItsShareAndObserversHearOfStartAndEnd() throws Exception {
        ExecService service = service(10);
        Exec first = service.create(HOST, SLEEP);
        service.create(HOST, SLEEP);
        ApiException refused = catchApi(() -> service.create(HOST, SLEEP));
        assertThat(refused.code()).isEqualTo(ErrorCode.TOO_MANY_EXECS);
        assertThat(refused.getMessage()).contains("alice");
        assertThat(refused.headers().getFirst("Retry-After")).isEqualTo("1");
        caller = new Caller("bob", null, true);
        assertThat(service.create(HOST, SLEEP).caller().principal()).isEqualTo("bob");
        caller = new Caller("alice", "10.0.0.1", true);
        service.delete(first.id());
        first.ended().get(5, TimeUnit.SECONDS);
        assertThat(service.create(HOST, SLEEP).caller().principal()).as("alice's slot came back").isEqualTo("alice");
        assertThat(observed).anyMatch(e -> e.equals("start " + first.id() + " alice []"))
                .anyMatch(e -> e.equals("end " + first.id() + " killed"));
    }

    @Test
    void argvAndEnvBeyondWhatLinuxTakesAreRefused() {
        ExecService service = service(10);
        String huge = "x".repeat(ArgumentLimits.MAX_STRING_BYTES);
        ApiException tooLong = catchApi(() -> service.create(HOST, new ExecRequest(List.of("echo", huge), null, null,
                null, null, null, null, null, null)));
        assertThat(tooLong.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(tooLong.getMessage()).contains("command[1]");
        List<String> env = java.util.stream.IntStream.range(0, 16).mapToObj(i -> "V" + i + "=" + "y".repeat(100_000)).toList();
        ApiException tooMuch = catchApi(() -> service.create(HOST, new ExecRequest(List.of("env"), env, null, null, null,
                null, null, null, null)));
        assertThat(tooMuch.getMessage()).contains("argv and env together");
        assertThat(observed).as("nothing started").isEmpty();
    }

    private ExecService service(int maxRunning) {
        return service(maxRunning, fakeHost());
    }

    /** Starts whatever {@link #next} gives. */
    private ProcessHost fakeHost() {
        return new ProcessHost() {
            @Override
            public TargetRef target() {
                return HOST;
            }

            @Override
            public HostProcess start(ProcessSpec spec) {
                return next.get();
            }
        };
    }

    private ExecService service(int maxRunning, ProcessHost host) {
        return service(maxRunning, host, 100);
    }

    private ExecService service(int maxRunning, ProcessHost host, int maxRecords) {
        return service(maxRunning, host, new ExecRegistry(maxRecords, Duration.ofHours(1), Long.MAX_VALUE));
    }

    private ExecService service(int maxRunning, ProcessHost host, ExecRegistry registry) {
        if (data == null) {
            data = DataDirectory.lock(upstreamDir);
        }
        ExecProperties properties = new ExecProperties(Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofHours(1),
                100, maxRunning, PER_PRINCIPAL, DataSize.ofKilobytes(1), DataSize.ofMegabytes(1), null,
                Duration.ofSeconds(1), DataSize.ofMegabytes(32));
        ExecRuntime runtime = new ExecRuntime(timer, Clock.systemUTC(), properties.copyAfterExitTimeout(),
                properties.killGracePeriod());
        return new ExecService(new Targets(List.of(provider(host))), registry, properties, runtime,
                jakarta.validation.Validation.buildDefaultValidatorFactory().getValidator(), () -> caller, List.of(events),
                new Upstreams(new UpstreamProperties("execgate", Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ofSeconds(1)), data));
    }

    private static TargetProvider provider(ProcessHost host) {
        return new TargetProvider() {
            @Override
            public TargetKind kind() {
                return TargetKind.HOST;
            }

            @Override
            public BackendStatus status() {
                return new BackendStatus("fake", TargetKind.HOST, true, "test");
            }

            @Override
            public List<TargetInfo> list() {
                return List.of();
            }

            @Override
            public Optional<TargetInfo> describe(String id) {
                return Optional.empty();
            }

            @Override
            public Optional<ProcessHost> open(String id) {
                return HOST.id().equals(id) ? Optional.of(host) : Optional.empty();
            }
        };
    }

    private static ApiException catchApi(Runnable call) {
        try {
            call.run();
        } catch (ApiException e) {
            return e;
        }
        throw new AssertionError("expected an ApiException");
    }
}
