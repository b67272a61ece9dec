package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
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

/**
 * The records against what an operator's machine does to a service: SIGKILL in the middle of writes (a data
 * directory on a read-only mount is DataDirectoryIT's). The service runs from the packaged jar in a process of its
 * own.
 */
class RecordsCrashIT {

    private static final String TOKEN = "records-crash-test-token";

    @TempDir
    Path dir;

    @Test
    void sigkillInTheMiddleOfWritesLosesNoRecordAClientSaw() throws Exception {
        Path data = dir.resolve("data");
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        long sleeperPid;
        String sleeper;
        try (ForkedService service = ForkedService.startJar(env(data), dir.resolve("first.log"))) {
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

        try (ForkedService again = ForkedService.startJar(env(data), dir.resolve("second.log"))) {
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
    }

    private static Map<String, String> env(Path data) {
        return Map.of("EXECGATE_DATA_DIR", data.toString(), "EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN);
    }
}
