package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.ProcessSpec;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecRegistryTest {

    private static final ProcessSpec SPEC = new ProcessSpec(List.of("cmd"), List.of(), null, null, false, null,
            false, true, true);
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
    private final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void aFullTableDropsItsOldestEndedRecord() throws Exception {
        ExecRegistry registry = new ExecRegistry(3, Duration.ofHours(1), Long.MAX_VALUE);
        Exec running = running("a");
        Exec ended1 = ended("b", t0);
        Exec ended2 = ended("c", t0);
        registry.add(running);
        for (Exec exec : List.of(ended1, ended2, ended("d", t0))) {
            registry.add(exec);
            registry.ended(exec); // as the exec's end tells the service
        }
        assertThat(registry.all()).extracting(Exec::id).containsExactly("a", "c", "d");
    }

    @Test
    void aFullTableDropsTheRecordThatEndedFirstNotTheOneCreatedFirst() throws Exception {
        ExecRegistry registry = new ExecRegistry(2, Duration.ofHours(1), Long.MAX_VALUE);
        FakeHostProcess longBuild = new FakeHostProcess();
        Exec build = exec("build", Clock.systemUTC());
        registry.add(build);
        build.start(longBuild.host(), SPEC, null);
        Exec quick = ended("quick", t0);
        registry.add(quick);
        registry.ended(quick);
        longBuild.exitWith(ExitStatus.exited(0, t0.plus(Duration.ofHours(2))));
        registry.ended(build.ended().get(5, TimeUnit.SECONDS)); // the build ends last
        registry.add(running("next"));
        assertThat(registry.all()).extracting(Exec::id).containsExactly("build", "next");
    }

    @Test
    void anEndTheStoreFailedToWriteIsWrittenByTheSweepSoThatARestartDoesNotReportItLost() throws Exception {
        MapStore store = new MapStore();
        ExecRegistry registry = new ExecRegistry(10, Duration.ofHours(1), Long.MAX_VALUE, store);
        FakeHostProcess process = new FakeHostProcess();
        Exec exec = exec("full-disk", Clock.systemUTC());
        registry.add(exec);
        exec.start(process.host(), SPEC, null);
        registry.started(exec);
        store.failingSaves = 1;
        process.exitWith(ExitStatus.exited(3, t0));
        registry.ended(exec.ended().get(5, TimeUnit.SECONDS));
        assertThat(store.records.get("full-disk").state()).as("the end's write failed").isEqualTo(ExecState.RUNNING);
        registry.sweep(t0);
        assertThat(store.records.get("full-disk").state()).isEqualTo(ExecState.EXITED);
        ExecRegistry restarted = new ExecRegistry(10, Duration.ofHours(1), Long.MAX_VALUE, store);
        assertThat(restarted.restore(new ExecRuntime(timer, Clock.systemUTC(), Duration.ofSeconds(1),
                Duration.ofSeconds(1)))).as("none lost").isZero();
        assertThat(restarted.find("full-disk").orElseThrow().snapshot().exit().exitCode()).isEqualTo(3);
    }

    @Test
    void aStoreThatRefusesWritesAtStartDoesNotKeepTheServiceFromStartingAndTheSweepCatchesUp() throws Exception {
        MapStore store = new MapStore();
        ExecRegistry before = new ExecRegistry(10, Duration.ofMinutes(10), Long.MAX_VALUE, store);
        Exec running = running("was-running");
        before.add(running);
        before.started(running);
        Exec old = ended("old", Instant.now().minus(Duration.ofHours(1)));
        before.add(old);
        before.ended(old);
        store.failingSaves = 1;
        store.failingDeletes = 1;
        ExecRegistry registry = new ExecRegistry(10, Duration.ofMinutes(10), Long.MAX_VALUE, store);
        assertThat(registry.restore(new ExecRuntime(timer, Clock.systemUTC(), Duration.ofSeconds(1),
                Duration.ofSeconds(1)))).isEqualTo(1);
        assertThat(registry.all()).extracting(Exec::id).containsExactly("was-running");
        assertThat(registry.find("was-running").orElseThrow().snapshot().state()).isEqualTo(ExecState.UNKNOWN);
        assertThat(store.records.get("was-running").state()).as("the lost mark's write failed").isEqualTo(ExecState.RUNNING);
        assertThat(store.records).containsKey("old");
        registry.sweep(Instant.now());
        assertThat(store.records).containsOnlyKeys("was-running");
        assertThat(store.records.get("was-running").state()).isEqualTo(ExecState.UNKNOWN);
    }

    @Test
    void aTableFullOfRunningExecsRefusesMore() throws Exception {
        ExecRegistry registry = new ExecRegistry(2, Duration.ofHours(1), Long.MAX_VALUE);
        registry.add(running("a"));
        registry.add(running("b"));
        assertThatExceptionOfType(ApiException.class).isThrownBy(() -> registry.add(running("c")))
                .satisfies(e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_EXECS));
        assertThat(registry.size()).isEqualTo(2);
    }

    @Test
    void sweepDropsOnlyEndedRecordsPastTheRetention() throws Exception {
        ExecRegistry registry = new ExecRegistry(10, Duration.ofMinutes(10), Long.MAX_VALUE);
        registry.add(ended("old", t0));
        registry.add(ended("recent", t0.plus(Duration.ofMinutes(5))));
        registry.add(running("running"));
        assertThat(registry.sweep(t0.plus(Duration.ofMinutes(12)))).isEqualTo(1);
        assertThat(registry.all()).extracting(Exec::id).containsExactly("recent", "running");
    }

    @Test
    void aRecordTheStoreFailedToDeleteIsDeletedAgainByTheSweepSoThatARestartDoesNotBringItBack() throws Exception {
        MapStore store = new MapStore();
        ExecRegistry registry = new ExecRegistry(10, Duration.ofHours(1), Long.MAX_VALUE, store);
        registry.add(ended("deleted", t0));
        registry.add(ended("kept", t0));
        store.failingDeletes = 2;
        assertThat(registry.remove("deleted")).isPresent();
        assertThat(registry.find("deleted")).as("gone from memory at once").isEmpty();
        assertThat(store.records).containsKey("deleted");
        registry.sweep(t0); // the store fails again: the retry waits for the next sweep
        assertThat(store.records).containsKey("deleted");
        registry.sweep(t0);
        assertThat(store.records).containsOnlyKeys("kept");
    }

    @Test
    void endedRecordsGoOldestFirstWhenTheirOutputPassesTheLimit() throws Exception {
        ExecRegistry registry = new ExecRegistry(10, Duration.ofHours(1), 10);
        Exec a = ended("a", t0, "12345");
        Exec b = ended("b", t0, "12345");
        Exec c = ended("c", t0, "1234567890ab");
        for (Exec exec : List.of(a, b, c)) {
            registry.add(exec);
            registry.ended(exec);
        }
        assertThat(registry.all()).extracting(Exec::id).as("c alone is over the limit, but it just ended").containsExactly("c");
        assertThat(registry.endedOutputBytes()).isEqualTo(12);
        registry.add(ended("d", t0, ""));
        registry.ended(registry.find("d").orElseThrow());
        assertThat(registry.all()).extracting(Exec::id).containsExactly("d");
        assertThat(registry.endedOutputBytes()).isZero();
    }

    @Test
    void listsNewestFirstFilteredAndLimited() throws Exception {
        ExecRegistry registry = new ExecRegistry(10, Duration.ofHours(1), Long.MAX_VALUE);
        registry.add(ended("a", t0));
        registry.add(running("b"));
        registry.add(ended("c", t0));
        registry.add(ended("d", t0));
        assertThat(registry.list(e -> true, 10)).extracting(Exec::id).containsExactly("d", "c", "b", "a");
        assertThat(registry.list(e -> e.ended().isDone(), 2)).extracting(Exec::id).containsExactly("d", "c");
        assertThat(registry.remove("c")).isPresent();
        assertThat(registry.find("c")).isEmpty();
    }

    @Test
    void theStoreFollowsEveryChangeAndNeverGoesBackToAnOlderState() throws Exception {
        MapStore store = new MapStore();
        ExecRegistry registry = new ExecRegistry(2, Duration.ofHours(1), Long.MAX_VALUE, store);
        Exec a = ended("a", t0);
        registry.add(a);
        registry.ended(a);
        registry.started(a); // a late start report of an exec that already ended
        assertThat(store.records.get("a").state()).isEqualTo(ExecState.EXITED);
        assertThat(store.records.get("a").exitCode()).isZero();

        Exec b = running("b");
        registry.add(b);
        assertThat(store.records.get("b").state()).isEqualTo(ExecState.RUNNING);
        registry.add(ended("c", t0)); // full: a, the oldest ended record, goes from memory and store
        assertThat(store.records.keySet()).containsExactly("b", "c");
        registry.remove("c");
        assertThat(store.records.keySet()).containsExactly("b");
    }

    @Test
    void aStoreThatCannotWriteRefusesTheExecAndKeepsNothing() throws Exception {
        ExecRegistry registry = new ExecRegistry(2, Duration.ofHours(1), Long.MAX_VALUE, new MapStore() {
            @Override
            public void save(ExecRecord record) {
                throw new IllegalStateException("disk full");
            }
        });
        assertThatExceptionOfType(ApiException.class).isThrownBy(() -> registry.add(running("a")))
                .satisfies(e -> assertThat(e.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE))
                .withMessageContaining("disk full");
        assertThat(registry.size()).isZero();
    }

    @Test
    void restoringMarksUnfinishedRecordsLostAndPrunesByRetentionAndSize() throws Exception {
        MapStore store = new MapStore();
        ExecRecord running = running("running").record();
        ExecRecord old = ended("old", t0).record();
        store.save(old);
        store.save(ended("kept1", t0.plus(Duration.ofMinutes(50))).record());
        store.save(ended("kept2", t0.plus(Duration.ofMinutes(55))).record());
        store.save(running);
        Instant now = t0.plus(Duration.ofMinutes(70));
        ExecRuntime runtime = new ExecRuntime(timer, Clock.fixed(now, ZoneOffset.UTC), Duration.ofSeconds(1),
                Duration.ofSeconds(1));

        ExecRegistry registry = new ExecRegistry(2, Duration.ofHours(1), Long.MAX_VALUE, store);
        assertThat(registry.restore(runtime)).isEqualTo(1);

        // "old" ended past the retention; of the three left, max-records keeps the newest two.
        assertThat(registry.all()).extracting(Exec::id).containsExactly("kept2", "running");
        assertThat(store.records.keySet()).containsExactly("kept2", "running");
        ExecRecord lost = store.records.get("running");
        assertThat(lost.state()).isEqualTo(ExecState.UNKNOWN);
        assertThat(lost.reason()).isEqualTo(ExitReason.LOST);
        assertThat(lost.exitCode()).isNull();
        assertThat(lost.pid()).isEqualTo(running.pid());
        Exec restored = registry.find("running").orElseThrow();
        assertThat(restored.ended()).isDone();
        assertThat(restored.snapshot().exit().reason()).isEqualTo(ExitReason.LOST);
        assertThat(restored.caller().principal()).isEqualTo(running.principal());
        assertThat(restored.caller().hostAccess()).as("restored callers have no rights").isFalse();
    }

    /** A store in a map, in insertion order, as the SQLite one keeps rowid order. */
    private static class MapStore implements ExecStore {
        final Map<String, ExecRecord> records = new LinkedHashMap<>();
        int failingDeletes;
        int failingSaves;

        @Override
        public List<ExecRecord> loadAll() {
            return List.copyOf(records.values());
        }

        @Override
        public void save(ExecRecord record) {
            if (failingSaves > 0) {
                failingSaves--;
                throw new IllegalStateException("[SQLITE_FULL] database or disk is full");
            }
            records.put(record.id(), record);
        }

        @Override
        public void delete(String id) {
            if (failingDeletes > 0) {
                failingDeletes--;
                throw new IllegalStateException("disk I/O error");
            }
            records.remove(id);
        }
    }

    private Exec running(String id) throws Exception {
        Exec exec = exec(id, Clock.systemUTC());
        exec.start(new FakeHostProcess().host(), SPEC, null);
        return exec;
    }

    private Exec ended(String id, Instant at) throws Exception {
        return ended(id, at, "");
    }

    private Exec ended(String id, Instant at, String output) throws Exception {
        Exec exec = exec(id, Clock.fixed(at, ZoneOffset.UTC));
        FakeHostProcess process = new FakeHostProcess();
        exec.start(process.host(), SPEC, null);
        process.stdout.write(output);
        process.exitWith(ExitStatus.exited(0, at));
        exec.ended().get(5, TimeUnit.SECONDS);
        return exec;
    }

    private Exec exec(String id, Clock clock) {
        return new Exec(id, new TargetRef(TargetKind.HOST, "test"), List.of("cmd"), false, false, Duration.ZERO,
                new OutputBuffer(16, OutputBuffer.Policy.KEEP_NEWEST), new OutputBuffer(16, OutputBuffer.Policy.KEEP_NEWEST),
                new ExecRuntime(timer, clock, Duration.ofSeconds(1), Duration.ofSeconds(1)), e -> { });
    }
}
