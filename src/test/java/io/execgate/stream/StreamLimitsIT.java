package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.ChannelClient.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Session limits over real WebSocket handshakes: the service's, and each principal's share of it. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.stream.max-sessions=4",
        "execgate.stream.max-sessions-per-principal=3",
        "execgate.security.tokens[0].name=second",
        "execgate.security.tokens[0].sha256=" + StreamLimitsIT.SECOND_SHA,
        "execgate.security.tokens[0].roles=admin"})
@AutoConfigureRestTestClient
class StreamLimitsIT {

    static final String SECOND = "second-admin-token-0123456789";
    // printf %s "$SECOND" | sha256sum
    static final String SECOND_SHA = "216b41ab703aedc887f2404ce4bd1d133f9b2b6faafe2ce68e4b395f09651cc2";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    private final List<ChannelClient> clients = new ArrayList<>();
    private String execId = "";

    @AfterEach
    void closeAll() {
        clients.forEach(ChannelClient::abort);
        if (!execId.isEmpty()) {
            new Api(http).delete("/api/v1/execs/" + execId);
        }
    }

    @Test
    void onePrincipalCannotTakeEverySessionAndWhatItGivesBackCountsAgain() throws Exception {
        execId = new Api(http).create("{\"command\": [\"sleep\", \"120\"]}").path("id").asString();

        ChannelClient first = open(Api.ADMIN_TOKEN);
        open(Api.ADMIN_TOKEN);
        open(Api.ADMIN_TOKEN);
        Refusal fourth = refused(Api.ADMIN_TOKEN);
        assertThat(fourth.status()).isEqualTo(429);
        JsonNode problem = JSON.readTree(fourth.body());
        assertThat(problem.path("code").asString()).isEqualTo("TOO_MANY_SESSIONS");
        assertThat(problem.path("detail").asString()).contains("admin holds 3", "max-sessions-per-principal");

        // Another principal still gets in: the service has a session left.
        open(SECOND);
        Refusal full = refused(SECOND);
        assertThat(full.status()).isEqualTo(429);
        assertThat(JSON.readTree(full.body()).path("detail").asString()).contains("all sessions are taken");

        // A session given back is the service's and its principal's again.
        first.closeNormally();
        assertThat(first.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
        ChannelClient secondsSecond = awaitOpen(SECOND);
        assertThat(secondsSecond.subprotocol()).isEqualTo(ChannelClient.V5);
        assertThat(refused(Api.ADMIN_TOKEN).status()).as("the service is full again").isEqualTo(429);
    }

    /**
     * Opens a session and waits for its ready message. The service counts a session once it is open, just before
     * it says ready, and checks a handshake against that count: a handshake sent before then would still find room
     * (and its session would be closed with 1013 once open).
     */
    private ChannelClient open(String token) throws InterruptedException {
        ChannelClient client = ChannelClient.connect(attach(), ChannelClient.V5, bearer(token));
        clients.add(client);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (client.readyChannel() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(client.readyChannel()).as("the session said it is ready").isEqualTo(1);
        return client;
    }

    /** Opens a session once the service has counted the last close (it does so just after the close frame). */
    private ChannelClient awaitOpen(String token) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return open(token);
            } catch (java.util.concurrent.CompletionException refused) {
                if (System.nanoTime() > deadline) {
                    throw refused;
                }
                Thread.sleep(50);
            }
        }
    }

    private Refusal refused(String token) {
        return ChannelClient.refused(attach(), ChannelClient.V5, bearer(token));
    }

    /** The token as a browser passes it, as a subprotocol: the builder then sends no Authorization header. */
    private static String bearer(String token) {
        return "base64url.bearer.authorization.k8s.io." + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private URI attach() {
        return URI.create("ws://127.0.0.1:" + port + "/api/v1/execs/" + execId + "/attach?stdin=false");
    }
}
