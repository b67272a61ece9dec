package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.ChannelClient.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Session limits over real WebSocket handshakes: the service's, and each principal's share of it. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.stream.max-sessions=4",
        "execgate.stream.max-sessions-per-principal=3",
        "execgate.stream.ping-interval=300ms",
        "execgate.stream.pong-timeout=1500ms",
        "execgate.security.tokens[0].name=second",
        "execgate.security.tokens[0].sha256=" + StreamLimitsIT.SECOND_SHA,
        "execgate.security.tokens[0].roles=admin"})
@AutoConfigureRestTestClient
@ExtendWith(OutputCaptureExtension.class)
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
     * Handshakes racing for the last sessions of a principal: each takes its slot before its command starts, so the
     * losers are refused with 429 and their commands never run (before, every handshake found room, every command
     * ran, and the losers' sessions were closed with 1013 once open). Each refusal is audited as a refused exec.
     */
    @Test
    void handshakesRacingForTheLastSessionsRunOnlyTheCommandsThatGetOne(CapturedOutput output) throws Exception {
        Path markers = Files.createTempDirectory("execgate-race-");
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(30_000);
                sockets.add(socket);
            }
            for (int i = 0; i < sockets.size(); i++) { // all sent before any answer is read
                String path = "/api/v1/host/exec?stdin=false&command=sh&command=-c&command="
                        + URLEncoder.encode("touch " + markers.resolve("ran-" + i) + "; exec sleep 60", StandardCharsets.UTF_8);
                sockets.get(i).getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                        + "Authorization: Bearer " + SECOND + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            List<String> statuses = new ArrayList<>();
            for (Socket socket : sockets) {
                statuses.add(new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII));
            }
            assertThat(statuses).as("the answers' status lines").filteredOn(s -> s.equals("HTTP/1.1 101")).hasSize(3);
            assertThat(statuses).filteredOn(s -> s.equals("HTTP/1.1 429")).hasSize(3);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (countFiles(markers) < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(500); // time for a command that should not run to show itself
            assertThat(countFiles(markers)).as("commands that ran").isEqualTo(3);
            assertThat(output.getOut().lines().filter(line -> line.contains("\"exec.refused\"")
                    && line.contains("max-sessions-per-principal") && line.contains(markers.toString())))
                    .as("audit lines of the refused one-step execs").hasSize(3);
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
            try (var files = Files.list(markers)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(markers);
        }
    }

    private static long countFiles(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.count();
        }
    }

    /**
     * A client that vanished without closing its connection answers no ping and takes no output: its session is
     * closed (1001) after pong-timeout, and its one-step exec ends with it. A client that answers stays.
     */
    @Test
    void aClientThatAnswersNoPingIsClosedAndItsOneStepExecEnds() throws Exception {
        execId = new Api(http).create("{\"command\": [\"sleep\", \"120\"]}").path("id").asString();
        ChannelClient answering = open(Api.ADMIN_TOKEN); // the JDK's client answers pings by itself
        String marker = "pongless-" + System.nanoTime();
        Api api = new Api(http);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /api/v1/host/exec?command=sh&command=-c&command=exec+sleep+600&command="
                    + marker + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\nAuthorization: Bearer " + Api.ADMIN_TOKEN + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.readUnsignedByte());
            }
            assertThat(head.toString()).startsWith("HTTP/1.1 101");
            assertThat(running(api, marker)).as("the one-step exec runs").hasSize(1);
            // Frames from the server, unmasked, never answered: pings, the ready message, then the close
            socket.setSoTimeout(20_000);
            long closeBy = System.nanoTime() + Duration.ofSeconds(20).toNanos(); // the pings alone never stop
            int pings = 0;
            int closeCode = -1;
            while (closeCode < 0 && System.nanoTime() < closeBy) {
                int opcode = in.readUnsignedByte() & 0x0f;
                int length = in.readUnsignedByte() & 0x7f;
                byte[] payload = in.readNBytes(length == 126 ? in.readUnsignedShort() : length);
                if (opcode == 0x9) {
                    pings++;
                } else if (opcode == 0x8) {
                    closeCode = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
                }
            }
            assertThat(closeCode).isEqualTo(1001);
            assertThat(pings).as("pings it left unanswered").isGreaterThanOrEqualTo(2);
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (!running(api, marker).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(running(api, marker)).as("the one-step exec ended with its session").isEmpty();
        }
        assertThat(answering.isClosed()).as("the client that answers pings keeps its session").isFalse();
    }

    private static List<String> running(Api api, String marker) {
        List<String> ids = new ArrayList<>();
        for (JsonNode exec : api.get("/api/v1/execs?state=running&limit=1000").expect(200)) {
            if (exec.path("command").toString().contains(marker)) {
                ids.add(exec.path("id").asString());
            }
        }
        return ids;
    }

    /** Opens a session and waits for its ready message (its slot was taken at the handshake). */
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
            } catch (ChannelClient.HandshakeRefused refused) {
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
