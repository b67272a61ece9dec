package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import io.execgate.support.Api;
import io.execgate.support.Processes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** The configured limits and timings of the exec life, with small values so they show quickly. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.exec.max-running=2",
        "execgate.exec.max-records=3",
        "execgate.exec.output-buffer-size=8B",
        "execgate.exec.copy-after-exit-timeout=300ms",
        "execgate.exec.kill-grace-period=500ms",
        "execgate.exec.retention=2s"})
@AutoConfigureRestTestClient
class ExecLimitsIT {

    @Autowired
    RestTestClient http;
    Api api;

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void beyondMaxRunningExecsAreRefusedWith429UntilOneEnds() {
        String first = api.create("{\"command\": [\"sleep\", \"60\"]}").path("id").asString();
        String second = api.create("{\"command\": [\"sleep\", \"60\"]}").path("id").asString();
        try {
            var refused = api.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(429, "TOO_MANY_EXECS");
            assertThat(refused.headers().getFirst("Retry-After")).isEqualTo("1");
            api.post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}").isProblem(429, "TOO_MANY_EXECS");

            api.post("/api/v1/execs/" + first + "/signal", "{\"signal\": \"KILL\"}").expect(202);
            api.awaitExit(first);
            assertThat(api.run("{\"command\": [\"true\"]}").path("exitCode").asInt()).isZero();
        } finally {
            api.delete("/api/v1/execs/" + first);
            api.delete("/api/v1/execs/" + second);
        }
    }

    @Test
    void theOutputBufferKeepsTheNewestBytesAndCountsTheRest() {
        String id = api.create("{\"command\": [\"echo\", \"0123456789abcdef\"]}").path("id").asString();
        api.awaitExit(id);
        assertThat(api.get("/api/v1/execs/" + id + "/output").text()).isEqualTo("9abcdef\n");
        JsonNode exec = api.get("/api/v1/execs/" + id).expect(200);
        assertThat(exec.path("stdoutBytes").asLong()).isEqualTo(17);
        assertThat(exec.path("stdoutDroppedBytes").asLong()).isEqualTo(9);
    }

    @Test
    void anExecEndsAfterTheCopyAfterExitTimeoutWhenAChildHoldsItsOutput() throws Exception {
        JsonNode result = api.run("{\"command\": [\"sh\", \"-c\", \"sleep 30 & echo $!\"]}");
        assertThat(result.path("exec").path("state").asString()).isEqualTo("exited");
        assertThat(result.path("exitCode").asInt()).isZero();
        long child = Long.parseLong(result.path("stdout").asString().strip());
        assertThat(Processes.isGone(child)).as("the child that held the pipe lives on, as with docker exec").isFalse();
        ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    void aProcessThatIgnoresSigtermIsKilledAfterTheGracePeriod() {
        JsonNode result = api.run("{\"command\": [\"sh\", \"-c\", \"trap '' TERM; while :; do sleep 0.1; done\"], "
                + "\"timeoutSeconds\": 1}");
        JsonNode exec = result.path("exec");
        assertThat(exec.path("reason").asString()).isEqualTo("timeout");
        assertThat(exec.path("signal").asString()).isEqualTo("SIGKILL");
        assertThat(result.path("exitCode").asInt()).isEqualTo(137);
    }

    @Test
    void endedRecordsGoAfterTheRetentionAndTheOldestGoWhenTheTableIsFull() throws Exception {
        String old = api.run("{\"command\": [\"true\"]}").path("exec").path("id").asString();
        api.get("/api/v1/execs/" + old).expect(200);
        for (int i = 0; i < 3; i++) {
            api.run("{\"command\": [\"true\"]}");
        }
        api.get("/api/v1/execs/" + old).isProblem(404, "EXEC_NOT_FOUND");
        String recent = api.run("{\"command\": [\"true\"]}").path("exec").path("id").asString();
        long deadline = System.currentTimeMillis() + 10_000;
        while (api.get("/api/v1/execs/" + recent).status() == 200 && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        api.get("/api/v1/execs/" + recent).isProblem(404, "EXEC_NOT_FOUND");
    }
}
