package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.execgate.ExecgateApplication;
import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Exec records in the SQLite file under the data directory, across restarts of the application context: every
 * record comes back as it was, retention and max-records prune the table, and a database that cannot be used
 * stops the start naming its file.
 */
class ExecRecordsIT {

    @TempDir
    Path dataDir;

    @Test
    void everyRecordSurvivesARestartAsItWas() throws Exception {
        Map<String, JsonNode> before = new java.util.LinkedHashMap<>();
        try (ConfigurableApplicationContext first = start()) {
            Api api = api(first);
            JsonNode exited = api.run("{\"command\": [\"sh\", \"-c\", \"printf out; printf error >&2; exit 3\"]}");
            JsonNode timedOut = api.run("{\"command\": [\"sleep\", \"600\"], \"timeoutSeconds\": 1}");
            String failed = api.post("/api/v1/host/execs", "{\"command\": [\"/no/such/program\"]}")
                    .isProblem(422, "EXEC_START_FAILED").json().path("execId").asString();
            for (String id : List.of(exited.path("exec").path("id").asString(), timedOut.path("exec").path("id").asString(),
                    failed)) {
                before.put(id, api.get("/api/v1/execs/" + id).expect(200));
            }
        }
        assertThat(Files.exists(dataDir.resolve("execgate.db"))).isTrue();

        try (ConfigurableApplicationContext second = start()) {
            Api api = api(second);
            for (var entry : before.entrySet()) {
                JsonNode after = api.get("/api/v1/execs/" + entry.getKey()).expect(200);
                // The output went with the old service: every byte now counts as not retained.
                ObjectNode expected = ((ObjectNode) entry.getValue()).deepCopy();
                expected.put("stdoutDroppedBytes", expected.path("stdoutBytes").asLong());
                expected.put("stderrDroppedBytes", expected.path("stderrBytes").asLong());
                assertThat(after.toString()).as("record %s", entry.getKey()).isEqualTo(expected.toString());
            }
            List<JsonNode> listed = new ArrayList<>();
            api.get("/api/v1/execs?limit=10").expect(200).forEach(listed::add);
            assertThat(listed).extracting(e -> e.path("id").asString())
                    .containsExactlyElementsOf(before.keySet().stream().toList().reversed());

            String exited = before.keySet().iterator().next();
            assertThat(before.get(exited).path("stdoutBytes").asLong()).isEqualTo(3);
            assertThat(api.get("/api/v1/execs/" + exited + "/exit").expect(200).path("exitCode").asInt()).isEqualTo(3);
            assertThat(api.get("/api/v1/execs/" + exited + "/output?stream=stdout").body()).isEmpty();
            api.post("/api/v1/execs/" + exited + "/signal", "{\"signal\": \"SIGTERM\"}").isProblem(409, "EXEC_NOT_RUNNING");

            // Attaching to a restored exec gets its end at once, as for any ended exec.
            ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port(second) + "/api/v1/execs/"
                    + exited + "/attach?stdout=true"), ChannelClient.V5);
            assertThat(client.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
            assertThat(client.statuses()).singleElement().asString().contains("NonZeroExitCode", "\"message\":\"3\"");

            assertThat(api.delete("/api/v1/execs/" + exited).status()).isEqualTo(204);
        }

        try (ConfigurableApplicationContext third = start()) {
            Api api = api(third);
            api.get("/api/v1/execs/" + before.keySet().iterator().next()).isProblem(404, "EXEC_NOT_FOUND");
            assertThat(api.get("/api/v1/execs?limit=10").expect(200)).hasSize(2);
        }
    }

    @Test
    void retentionAndMaxRecordsPruneTheTableAtStart() {
        List<String> ids = new ArrayList<>();
        try (ConfigurableApplicationContext first = start()) {
            Api api = api(first);
            for (int i = 0; i < 5; i++) {
                ids.add(api.run("{\"command\": [\"true\"]}").path("exec").path("id").asString());
            }
        }
        try (ConfigurableApplicationContext fewer = start("--execgate.exec.max-records=2",
                "--execgate.exec.max-running=1")) {
            Api api = api(fewer);
            List<String> kept = new ArrayList<>();
            api.get("/api/v1/execs?limit=10").expect(200).forEach(e -> kept.add(e.path("id").asString()));
            assertThat(kept).containsExactly(ids.get(4), ids.get(3));
            assertThat(api.get("/actuator/health/records").expect(200).path("details").path("records").asLong())
                    .isEqualTo(2);
        }
        try (ConfigurableApplicationContext shortLived = start("--execgate.exec.retention=1ms")) {
            Api api = api(shortLived);
            assertThat(api.get("/api/v1/execs?limit=10").expect(200)).isEmpty();
            assertThat(api.get("/actuator/health/records").expect(200).path("details").path("records").asLong())
                    .isZero();
        }
    }

    @Test
    void aFileThatIsNotADatabaseStopsTheStartNamingIt() throws Exception {
        Path file = dataDir.resolve("execgate.db");
        Files.write(file, "these are not the records you are looking for\n".repeat(200).getBytes());
        Throwable failure = catchThrowable(this::start);
        assertThat(rootMessages(failure)).contains(file.toString()).contains("is not a database");
        assertThat(Files.readString(file)).as("left as it was").startsWith("these are not the records");
    }

    @Test
    void aDatabaseRemovedAfterACrashStopsTheStartInsteadOfStartingEmpty() throws Exception {
        Files.writeString(dataDir.resolve("execgate.db-wal"), "the log of a database that was removed");
        Throwable failure = catchThrowable(this::start);
        assertThat(rootMessages(failure)).contains(dataDir.resolve("execgate.db").toString())
                .contains("is missing, but its write-ahead log");
        assertThat(dataDir.resolve("execgate.db")).doesNotExist();
    }

    @Test
    void aDatabaseRemovedWhileTheServiceRunsTakesItOutOfServiceAndRefusesExecs() throws Exception {
        try (ConfigurableApplicationContext context = start()) {
            Api api = api(context);
            api.run("{\"command\": [\"true\"]}");
            Files.delete(dataDir.resolve("execgate.db"));

            JsonNode health = api.get("/actuator/health/records").expect(503);
            assertThat(health.path("status").asString()).isEqualTo("DOWN");
            assertThat(health.path("details").path("detail").asString()).contains("was removed while execgate ran");
            assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(503);

            Api.Response refused = api.post("/api/v1/host/execs", "{\"command\": [\"sleep\", \"600\"]}")
                    .isProblem(503, "BACKEND_UNAVAILABLE");
            assertThat(refused.json().path("detail").asString()).contains("execgate.db");
            assertThat(api.get("/api/v1/execs?state=running").expect(200)).as("nothing started").isEmpty();
        }
    }

    private ConfigurableApplicationContext start(String... extra) {
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--execgate.data-dir=" + dataDir,
                "--execgate.exec.kill-grace-period=1s"));
        args.addAll(List.of(extra));
        return new SpringApplicationBuilder(ExecgateApplication.class).run(args.toArray(String[]::new));
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    private static Api api(ConfigurableApplicationContext context) {
        return new Api(RestTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port(context)).build());
    }

    private static String rootMessages(Throwable failure) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        return messages.toString();
    }
}
