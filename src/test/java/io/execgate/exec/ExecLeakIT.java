package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;

/** Two hundred and forty execs leave nothing behind: no descriptors, no threads, no child processes. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class ExecLeakIT {

    private static final int ROUNDS = 240;

    @Autowired
    RestTestClient http;
    @LocalServerPort
    int port;

    @Test
    void manyExecsLeaveNoDescriptorsThreadsOrProcessesBehind() throws Exception {
        Api api = new Api(http);
        for (int i = 0; i < 10; i++) { // warm up: connections, thread pools, classes
            round(api, i, port);
        }
        int fds = settle(Processes::openDescriptors, Integer.MAX_VALUE);
        int threads = settle(ExecLeakIT::threads, Integer.MAX_VALUE);
        java.util.Set<String> threadsBefore = threadNames();

        for (int i = 0; i < ROUNDS; i++) {
            round(api, i, port);
        }

        assertThat(settle(Processes::openDescriptors, fds)).as("open descriptors after %d execs", ROUNDS)
                .isLessThanOrEqualTo(fds);
        int threadsAfter = settle(ExecLeakIT::threads, threads);
        java.util.Set<String> added = threadNames();
        added.removeAll(threadsBefore);
        assertThat(threadsAfter).as("threads after %d execs (new: %s)", ROUNDS, added).isLessThanOrEqualTo(threads);
        assertThat(ProcessHandle.current().children().toList()).as("child processes").isEmpty();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("exec-")
                || t.getName().startsWith("execgate-wait-"));
        assertThat(api.get("/api/v1/execs?state=running").expect(200).isEmpty()).as("running execs").isTrue();
    }

    /**
     * One of each kind of exec: created and waited for, run with input, failing to start, deleted while running,
     * and over WebSocket: run to its end, and dropped by its client on a terminal.
     */
    private static void round(Api api, int i, int port) throws Exception {
        switch (i % 6) {
            case 0 -> api.awaitExit(api.create("{\"command\": [\"sh\", \"-c\", \"echo " + i + "; echo x >&2\"]}")
                    .path("id").asString());
            case 1 -> assertThat(api.run("{\"command\": [\"cat\"], \"input\": \"" + i + "\"}").path("stdout").asString())
                    .isEqualTo(String.valueOf(i));
            case 2 -> api.post("/api/v1/host/execs", "{\"command\": [\"no-such-command\"]}").isProblem(422, "EXEC_START_FAILED");
            case 3 -> {
                String id = api.create("{\"command\": [\"sleep\", \"60\"], \"stdin\": true}").path("id").asString();
                assertThat(api.delete("/api/v1/execs/" + id).status()).isEqualTo(204);
            }
            case 4 -> {
                ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                        + "/api/v1/host/exec?command=echo&command=" + i), ChannelClient.V5);
                assertThat(client.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
                assertThat(client.stdout()).isEqualTo(i + "\n");
            }
            default -> {
                ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                        + "/api/v1/host/exec?command=sh&stdin=true&tty=true"), ChannelClient.V5);
                client.stdin("echo " + i + "\n");
                client.abort();
                String id = api.get("/api/v1/execs?limit=1").expect(200).get(0).path("id").asString();
                api.awaitExit(id);
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

    private static java.util.Set<String> threadNames() {
        java.util.Set<String> names = new java.util.TreeSet<>();
        Thread.getAllStackTraces().keySet().forEach(t -> names.add(t.getName()));
        return names;
    }

    /**
     * The service's threads: all but the test clients' own (the JDK HttpClient's workers come and go, a
     * ChannelClient's reader lasts as long as its connection) and the
     * carriers of virtual threads (the JDK's scheduler keeps one per core, and idle ones leave after 30 s).
     */
    private static int threads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().startsWith("HttpClient-") && !t.getName().startsWith("ForkJoinPool-")
                        && !t.getName().startsWith("channel-client-")).count();
    }
}
