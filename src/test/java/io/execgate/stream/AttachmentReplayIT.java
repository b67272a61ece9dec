package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Attachments replay the retained output from the exec's own buffers: many clients attaching to a large output
 * at once, and reading none of it, hold a chunk each, not a copy each (before, 30 of them held 480 MiB here).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "execgate.exec.output-buffer-size=8MB")
@AutoConfigureRestTestClient
class AttachmentReplayIT {

    private static final long EIGHT_MIB = 8L * 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;

    @Test
    void stalledReplaysShareTheRetainedOutputAndEveryClientGetsAllOfIt() throws Exception {
        Api api = new Api(http);
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"head -c 8388608 /dev/urandom; "
                + "head -c 8388608 /dev/urandom >&2; exec sleep 120\"]}").path("id").asString();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (api.get("/api/v1/execs/" + id).json().path("stderrBytes").asLong() < EIGHT_MIB) {
            assertThat(System.nanoTime()).as("the output is all there").isLessThan(deadline);
            Thread.sleep(50);
        }
        byte[] retained = api.get("/api/v1/execs/" + id + "/output?stream=stdout").body();
        assertThat(retained).hasSize((int) EIGHT_MIB);
        long before = heapAfterGc();

        List<ChannelClient> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) {
                // Reads its first message, then nothing until told: the replay waits on the socket.
                stalled.add(ChannelClient.connect(attach(id), true, false, ChannelClient.V5));
            }
            Thread.sleep(2000);
            long during = heapAfterGc();
            assertThat(during - before).as("heap the 30 stalled replays hold (bytes)").isLessThan(96L * 1024 * 1024);

            ChannelClient whole = ChannelClient.connect(attach(id), ChannelClient.V5);
            for (ChannelClient client : stalled) {
                client.read(Long.MAX_VALUE);
            }
            api.delete("/api/v1/execs/" + id);
            for (ChannelClient client : stalled) {
                int code = client.awaitClose(WAIT);
                assertThat(code).as("close of a stalled client after %d bytes (error: %s)", client.received(),
                        client.errorChain()).isEqualTo(1000);
                assertThat(client.received() - client.statuses().getFirst().length()).as("stdout replayed")
                        .isEqualTo(EIGHT_MIB);
            }
            assertThat(whole.awaitClose(WAIT)).isEqualTo(1000);
            assertThat(whole.stdoutBytes()).as("the replay, byte for byte").isEqualTo(retained);
        } finally {
            stalled.forEach(ChannelClient::abort);
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        System.gc();
        Thread.sleep(200);
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private URI attach(String id) {
        return URI.create("ws://127.0.0.1:" + port + "/api/v1/execs/" + id + "/attach?stdin=false&stderr=false");
    }
}
