package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import io.execgate.support.Api;
import io.execgate.support.Processes;
import org.junit.jupiter.api.BeforeEach;
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

/**
 * A run-to-completion call and its caller, over real sockets: an answer that waits keeps the connection busy with
 * spaces every JSON parser skips, and a caller that hangs up takes its process with it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "execgate.exec.run-keep-alive=300ms")
@AutoConfigureRestTestClient
@ExtendWith(OutputCaptureExtension.class)
class RunCallerIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Autowired
    RestTestClient http;
    @LocalServerPort
    int port;
    Api api;

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void aShortRunAnswersAtOnceWithItsLength() throws IOException {
        String answer = exchange("{\"command\": [\"echo\", \"quick\"]}");
        assertThat(head(answer)).containsIgnoringCase("content-length:").doesNotContainIgnoringCase("chunked");
        assertThat(body(answer)).startsWith("{");
    }

    @Test
    void aLongerRunBeginsItsAnswerWithSpacesThatJsonParsersSkip() throws Exception {
        String run = "{\"command\": [\"sh\", \"-c\", \"sleep 1.5; echo done; exit 4\"]}";
        String answer = exchange(run);
        assertThat(head(answer)).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
                .containsIgnoringCase("content-type: application/json")
                .as("the security headers go out with the early head too").containsIgnoringCase("x-content-type-options: nosniff");
        String body = dechunk(body(answer));
        assertThat(body).as("a space each interval, then the answer").matches("(?s) {2,}\\{.*\\}");
        assertThat(JSON.readTree(body).path("stdout").asString()).isEqualTo("done\n");
        // The JDK's client and Spring's read it as any answer.
        HttpResponse<String> jdk = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url()))
                .header("Authorization", "Bearer " + Api.ADMIN_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(run)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(jdk.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(jdk.body()).path("exitCode").asInt()).isEqualTo(4);
        assertThat(api.run(run).path("stdout").asString()).isEqualTo("done\n");
    }

    @Test
    void aCallerThatHangsUpEndsItsRun(CapturedOutput output) throws Exception {
        String marker = UUID.randomUUID().toString();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            send(socket, "{\"command\": [\"sh\", \"-c\", \"sleep 300; : " + marker + "\"]}");
            JsonNode exec = awaitRunning(marker);
            long pid = exec.path("pid").asLong();
            assertThat(Processes.isGone(pid)).isFalse();
            assertThat(socket.getInputStream().read()).as("the answer has begun").isEqualTo('H');
            socket.close();
            String id = exec.path("id").asString();
            JsonNode exit = api.awaitExit(id);
            assertThat(exit.path("reason").asString()).isEqualTo("killed");
            assertThat(exit.path("signal").asString()).isEqualTo("SIGTERM");
            assertThat(Processes.awaitGone(pid, 10_000)).as("the shell is gone").isTrue();
            assertThat(output.getAll().lines().filter(l -> l.contains("\"event\":\"exec.control\"") && l.contains(id)))
                    .singleElement().asString().contains("\"action\":\"caller-gone\"", "\"principal\":\"admin\"");
        }
    }

    @Test
    void aCallerThatHangsUpBeforeTheFirstSpaceEndsItsRunToo() throws Exception {
        String marker = UUID.randomUUID().toString();
        String id;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            send(socket, "{\"command\": [\"sh\", \"-c\", \"sleep 300; : " + marker + "\"]}");
            id = awaitRunning(marker).path("id").asString();
        } // closed at once: the service finds out from the spaces it then cannot write
        assertThat(api.awaitExit(id).path("reason").asString()).isEqualTo("killed");
    }

    private JsonNode awaitRunning(String marker) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode exec : api.get("/api/v1/execs?state=running").expect(200)) {
                if (exec.path("command").toString().contains(marker) && exec.path("pid").isNumber()) {
                    return exec;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no running exec has " + marker);
    }

    /** One request on a socket of its own, and everything that comes back until the service closes it. */
    private String exchange(String json) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            send(socket, json);
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void send(Socket socket, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /api/v1/host/execs/run HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer "
                + Api.ADMIN_TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    private static String head(String answer) {
        return answer.substring(0, answer.indexOf("\r\n\r\n"));
    }

    private static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    /** The body of a chunked answer (RFC 9112 section 7.1), without extensions or trailers. */
    private static String dechunk(String chunked) throws IOException {
        InputStream in = new java.io.ByteArrayInputStream(chunked.getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            StringBuilder size = new StringBuilder();
            for (int c = in.read(); c != '\r'; c = in.read()) {
                size.append((char) c);
            }
            in.read(); // \n
            int length = Integer.parseInt(size.toString().trim(), 16);
            if (length == 0) {
                return body.toString(StandardCharsets.UTF_8);
            }
            body.write(in.readNBytes(length));
            in.skipNBytes(2);
        }
    }

    private String url() {
        return "http://127.0.0.1:" + port + "/api/v1/host/execs/run";
    }
}
