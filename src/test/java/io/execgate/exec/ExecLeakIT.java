package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import io.execgate.support.Api;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;

/** Two hundred execs leave nothing behind: no descriptors, no threads, no child processes. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class ExecLeakIT {

    private static final int ROUNDS = 200;

    @Autowired
    RestTestClient http;

    @Test
    void manyExecsLeaveNoDescriptorsThreadsOrProcessesBehind() throws Exception {
        Api api = new Api(http);
        for (int i = 0; i < 10; i++) { // warm up: connections, thread pools, classes
            round(api, i);
        }
        int fds = settle(Processes::openDescriptors, Integer.MAX_VALUE);
        int threads = settle(ExecLeakIT::threads, Integer.MAX_VALUE);

        for (int i = 0; i < ROUNDS; i++) {
            round(api, i);
        }

        assertThat(settle(Processes::openDescriptors, fds)).as("open descriptors after %d execs", ROUNDS)
                .isLessThanOrEqualTo(fds);
        assertThat(settle(ExecLeakIT::threads, threads)).as("threads after %d execs", ROUNDS).isLessThanOrEqualTo(threads);
        assertThat(ProcessHandle.current().children().toList()).as("child processes").isEmpty();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("exec-")
                || t.getName().startsWith("execgate-wait-"));
    }

    /** One of each kind of exec: created and waited for, run with input, failing to start, deleted while running. */
    private static void round(Api api, int i) {
        switch (i % 4) {
            case 0 -> api.awaitExit(api.create("{\"command\": [\"sh\", \"-c\", \"echo " + i + "; echo x >&2\"]}")
                    .path("id").asString());
            case 1 -> assertThat(api.run("{\"command\": [\"cat\"], \"input\": \"" + i + "\"}").path("stdout").asString())
                    .isEqualTo(String.valueOf(i));
            case 2 -> api.post("/api/v1/host/execs", "{\"command\": [\"no-such-command\"]}").isProblem(422, "EXEC_START_FAILED");
            default -> {
                String id = api.create("{\"command\": [\"sleep\", \"60\"], \"stdin\": true}").path("id").asString();
                assertThat(api.delete("/api/v1/execs/" + id).status()).isEqualTo(204);
            }
        }
    }

    private interface Count {
        int get() throws IOException;
    }

    /** Waits (at most 10 s) for a count to come down to {@code target}, then returns it. */
    private static int settle(Count count, int target) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        int now = count.get();
        while (now > target && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            now = count.get();
        }
        if (target == Integer.MAX_VALUE) { // a baseline: let stragglers of the warm-up finish first
            Thread.sleep(1000);
            now = count.get();
        }
        return now;
    }

    /** The service's threads: all but the test client's own (the JDK HttpClient's workers come and go). */
    private static int threads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().startsWith("HttpClient-")).count();
    }
}
