package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.execgate.support.ChannelClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Floods to slow clients, with a small {@code relay-buffer-limit}: the relays grow their chunks only within it
 * (so no message is larger than the limit allows), every byte still arrives in order, and all of it is given back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.exec.relay-buffer-limit=256KB"})
class RelayBufferLimitIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @LocalServerPort
    int port;
    @Autowired
    ExecRuntime runtime;
    private final List<ChannelClient> clients = new ArrayList<>();

    @AfterEach
    void closeAll() {
        clients.forEach(ChannelClient::abort);
    }

    @Test
    void floodsGrowOnlyWithinTheSharedLimitAndLoseNothing() throws Exception {
        for (int i = 0; i < 3; i++) {
            clients.add(ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                    + "/api/v1/host/exec?command=seq&command=1&command=1500000&stderr=false"), false, false,
                    ChannelClient.V5));
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (clients.stream().anyMatch(c -> !c.isClosed()) && System.nanoTime() < deadline) {
            for (ChannelClient client : clients) {
                if (!client.isClosed()) {
                    client.read(1);
                }
            }
            Thread.sleep(2); // slower than seq: the pipes fill, and the relays want to grow
        }
        byte[] expected = new ProcessBuilder("seq", "1", "1500000").start().getInputStream().readAllBytes();
        for (ChannelClient client : clients) {
            assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
            assertThat(client.stdout()).hasSize(expected.length)
                    .isEqualTo(new String(expected, StandardCharsets.US_ASCII));
            // 256 KiB holds a 128 KiB chunk beside the 64 KiB one it replaces, not a 256 KiB one beside 128 KiB
            assertThat(client.largestMessage()).as("the largest message, channel byte included")
                    .isGreaterThan(OutputRelay.FIRST_CHUNK + 1).isLessThanOrEqualTo(128 * 1024 + 1);
        }
        for (int i = 0; i < 100 && runtime.relayBuffers().held() != 0; i++) {
            Thread.sleep(20);
        }
        assertThat(runtime.relayBuffers().held()).as("given back by the ended relays").isZero();
    }
}
