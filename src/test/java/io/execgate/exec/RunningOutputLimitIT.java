package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import io.execgate.support.Api;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The buffers of running execs share {@code running-output-limit}: with 64 KiB, an exec that holds most of it
 * leaves a run the rest (its answer says truncated, and nothing fails), and gives it back when it ends.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "execgate.exec.running-output-limit=64KB")
@AutoConfigureRestTestClient
class RunningOutputLimitIT {

    private static final String RUN = "{\"command\": [\"sh\", \"-c\", \"yes | head -c 20000\"]}";

    @Autowired
    RestTestClient http;

    @Test
    void runningExecsShareTheLimitAndGiveItBackWhenTheyEnd() throws Exception {
        Api api = new Api(http);
        // 200,000 bytes would grow its buffer to 256 KiB: it grows until the limit is (all but a chunk) spent.
        String holder = api.create("{\"command\": [\"sh\", \"-c\", \"yes | head -c 200000; exec sleep 60\"]}")
                .path("id").asString();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (api.get("/api/v1/execs/" + holder).json().path("stdoutBytes").asLong() < 200_000) {
            assertThat(System.nanoTime()).as("the holder's output arrives").isLessThan(deadline);
            Thread.sleep(20);
        }
        int held = api.get("/api/v1/execs/" + holder + "/output?stream=stdout").body().length;
        assertThat(held).isBetween(32 * 1024, 64 * 1024);

        JsonNode starved = api.run(RUN);
        assertThat(starved.path("exitCode").asInt()).isZero();
        assertThat(starved.path("stdoutTruncated").asBoolean()).isTrue();
        int got = starved.path("stdout").asString().length();
        assertThat(held + got).as("the holder's %d and the run's %d bytes", held, got).isLessThanOrEqualTo(64 * 1024);
        assertThat(starved.path("exec").path("stdoutDroppedBytes").asLong()).isEqualTo(20_000 - got);

        api.post("/api/v1/execs/" + holder + "/signal", "{\"signal\": \"KILL\"}").expect(202);
        assertThat(api.awaitExit(holder).path("signal").asString()).isEqualTo("SIGKILL");
        JsonNode fed = api.run(RUN);
        assertThat(fed.path("stdout").asString()).hasSize(20_000).startsWith("y\ny\n");
        assertThat(fed.path("stdoutTruncated").asBoolean()).isFalse();
        // The ended holder keeps its output (the retained limit's now, not the running one's).
        assertThat(api.get("/api/v1/execs/" + holder + "/output?stream=stdout").body()).hasSize(held);
    }
}
