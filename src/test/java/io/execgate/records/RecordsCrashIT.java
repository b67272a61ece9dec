package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import io.execgate.support.ForkedService;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The records against what an operator's machine does to a service: SIGKILL in the middle of writes, a full disk,
 * a database file on a read-only mount (a whole data directory on one is DataDirectoryIT's). The service runs from the packaged jar in a process of its
 * own.
 */
class RecordsCrashIT {

    private static final String TOKEN = "records-crash-test-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    @Test
    void sigkillInTheMiddleOfWritesLosesNoRecordAClientSaw() throws Exception {
        Path data = dir.resolve("data");
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        long sleeperPid;
        String sleeper;
        try (ForkedService service = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("first.log"))) {
            JsonNode running = service.send(TOKEN, "POST", "/api/v1/host/execs", "{\"command\": [\"sleep\", \"600\"]}");
            sleeper = running.path("id").asString();
            sleeperPid = running.path("pid").asLong();

            // Two clients run execs as fast as the service takes them; each remembers the ones it saw end.
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        int code = (client * 100 + i) % 256;
                        try {
                            JsonNode run = service.send(TOKEN, "POST", "/api/v1/host/execs/run",
                                    "{\"command\": [\"sh\", \"-c\", \"exit " + code + "\"]}");
                            seen.put(run.path("exec").path("id").asString(), run.path("exitCode").asInt());
                        } catch (IOException | InterruptedException killed) {
                            return; // the service is gone
                        }
                    }
                }));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < 200 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            service.kill(); // while both clients are mid-request
            stop.set(true);
            for (Thread client : clients) {
                client.join();
            }
        }
        assertThat(seen).hasSizeGreaterThanOrEqualTo(200);

        try (ForkedService again = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("second.log"))) {
            assertThat(sqliteLibraries(data)).as("the killed service's copy of sqlite-jdbc's library is gone, the "
                    + "running one's is there").hasSize(1);
            for (var entry : seen.entrySet()) {
                JsonNode record = again.send(TOKEN, "GET", "/api/v1/execs/" + entry.getKey(), null);
                assertThat(record.path("state").asString()).as("state of %s", entry.getKey()).isEqualTo("exited");
                assertThat(record.path("exitCode").asInt()).as("exit code of %s", entry.getKey())
                        .isEqualTo(entry.getValue());
            }
            JsonNode lost = again.send(TOKEN, "GET", "/api/v1/execs/" + sleeper, null);
            assertThat(lost.path("state").asString()).isEqualTo("unknown");
            assertThat(lost.path("reason").asString()).isEqualTo("lost");
            assertThat(lost.path("exitCode").isNull()).isTrue();
            assertThat(lost.path("error").asString()).contains("stopped while the exec ran");
            // The sleeper, and whichever runs the kill caught in flight.
            assertThat(again.log()).containsPattern("execs running when execgate last stopped: [1-3];");
        } finally {
            ProcessHandle.of(sleeperPid).ifPresent(ProcessHandle::destroyForcibly);
        }
        assertThat(Processes.awaitGone(sleeperPid, 5_000)).isTrue();
        assertThat(sqliteLibraries(data)).as("removed at a normal exit").isEmpty();
    }

    /** sqlite-jdbc's extracted libraries in the forked services' {@code java.io.tmpdir}, in this data directory's place. */
    private static List<Path> sqliteLibraries(Path data) throws IOException {
        Path place = Path.of("target", "forked-tmp", SqliteLibraryDirectory.name(data));
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(place)) {
            try (var files = Files.newDirectoryStream(place, "*libsqlitejdbc.so")) {
                files.forEach(found::add);
            }
        }
        return found;
    }

    @Test
    void aFullDiskRefusesExecsWithAProblemRunsNoneOfThemAndReadinessComesBackWithRoom() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path markers = Files.createDirectories(dir.resolve("markers"));
        // A 1 MiB tmpfs over the data directory, most of it taken by a ballast file, in a mount namespace only this
        // service sees.
        List<String> command = ForkedService.jarCommandInMounts(
                "mount -t tmpfs -o size=1m,mode=0700 tmpfs \"$0\" && head -c 700k /dev/zero > \"$0/ballast\"", data);
        try (ForkedService service = ForkedService.start(command, Path.of("."), ForkedService.env(data, TOKEN), ForkedService.freePort(),
                dir.resolve("full.log"))) {
            assertThat(service.awaitLive(Duration.ofSeconds(60))).as("live; log: %s", service.log()).isTrue();
            // Each exec marks that it ran; its long argument fills the records.
            String padding = "x".repeat(4_000);
            HttpResponse<String> refused = null;
            int n = 0;
            while (refused == null && n < 500) {
                HttpResponse<String> run = service.exchange(TOKEN, "POST", "/api/v1/host/execs/run",
                        "{\"command\": [\"sh\", \"-c\", \"touch \\\"$0\\\"\", \"" + markers.resolve(Integer.toString(++n))
                                + "\", \"" + padding + "\"]}");
                if (run.statusCode() != 200) {
                    refused = run;
                }
            }
            assertThat(refused).as("an exec refused before 500 ran").isNotNull();
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            JsonNode problem = JSON.readTree(refused.body());
            assertThat(problem.path("code").asString()).isEqualTo("BACKEND_UNAVAILABLE");
            assertThat(problem.path("detail").asString()).startsWith("the exec records cannot be written: saving exec record e_")
                    .contains("[SQLITE_FULL]").doesNotContain("INSERT", "SQL state");
            Thread.sleep(500);
            try (var ran = Files.list(markers)) {
                assertThat(ran).as("the refused exec never ran; all before it did").hasSize(n - 1)
                        .doesNotContain(markers.resolve(Integer.toString(n)));
            }

            HttpResponse<String> readiness = service.exchange(TOKEN, "GET", "/actuator/health/readiness", null);
            assertThat(readiness.statusCode()).isEqualTo(503);
            JsonNode records = JSON.readTree(readiness.body()).path("components").path("records");
            assertThat(records.path("status").asString()).isEqualTo("DOWN");
            assertThat(records.path("details").path("detail").asString())
                    .contains("the last write failed: saving exec record", "a probe write fails too", "SQLITE_FULL");

            // Room again: the ballast goes, seen through the service's own mount namespace.
            Files.delete(Path.of("/proc/" + service.handle().pid() + "/root" + data.toAbsolutePath(), "ballast"));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos(); // a probe write every 2 s at most
            while (service.exchange(TOKEN, "GET", "/actuator/health/readiness", null).statusCode() != 200) {
                assertThat(System.nanoTime()).as("ready again within 10 s").isLessThan(deadline);
                Thread.sleep(200);
            }
            JsonNode run = service.send(TOKEN, "POST", "/api/v1/host/execs/run",
                    "{\"command\": [\"sh\", \"-c\", \"touch \\\"$0\\\"\", \"" + markers.resolve("after") + "\"]}");
            assertThat(run.path("exitCode").asInt()).isZero();
            assertThat(markers.resolve("after")).exists();
        }
    }

    @Test
    void aDatabaseOnAReadOnlyMountStopsTheStartNamingTheFile() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path file = data.resolve("execgate.db");
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            db.createStatement().execute("CREATE TABLE earlier (x INTEGER)"); // some database an earlier run left
        }
        byte[] before = Files.readAllBytes(file);
        // The database file alone bound read-only over itself (the directory, and so the lock, stay writable), in a
        // mount namespace only this service sees.
        List<String> command = ForkedService.jarCommandInMounts(
                "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\"", file);
        try (ForkedService service = ForkedService.start(command, Path.of("."), ForkedService.env(data, TOKEN), ForkedService.freePort(),
                dir.resolve("ro.log"))) {
            assertThat(service.awaitExit(Duration.ofSeconds(60))).as("exit code; log: %s", service.log()).isEqualTo(1);
            assertThat(service.log()).contains("APPLICATION FAILED TO START", "the exec records database " + file,
                    "Make the file and its directory writable");
        }
        assertThat(Files.readAllBytes(file)).as("left as it was").isEqualTo(before);
    }
}
