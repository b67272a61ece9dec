package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

import io.execgate.support.Api;
import io.execgate.support.Processes;
import io.execgate.support.RawHttp;
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
    private static final String RUN = "/api/v1/host/execs/run";

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
        RawHttp.Answer answer = run("{\"command\": [\"echo\", \"quick\"]}");
        assertThat(answer.head()).containsIgnoringCase("content-length:").doesNotContainIgnoringCase("chunked");
        assertThat(answer.body()).startsWith("{");
    }

    @Test
    void aLongerRunBeginsItsAnswerWithSpacesThatJsonParsersSkip() throws Exception {
        String command = "{\"command\": [\"sh\", \"-c\", \"sleep 1.5; echo done; exit 4\"]}";
        RawHttp.Answer answer = run(command);
        assertThat(answer.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
                .containsIgnoringCase("content-type: application/json")
                .as("the security headers go out with the early head too").containsIgnoringCase("x-content-type-options: nosniff");
        String body = answer.body();
        assertThat(body).as("a space each interval, then the answer").matches("(?s) {2,}\\{.*\\}");
        assertThat(JSON.readTree(body).path("stdout").asString()).isEqualTo("done\n");
        // The JDK's client and Spring's read it as any answer.
        HttpResponse<String> jdk = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url()))
                .header("Authorization", "Bearer " + Api.ADMIN_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(command)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(jdk.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(jdk.body()).path("exitCode").asInt()).isEqualTo(4);
        assertThat(api.run(command).path("stdout").asString()).isEqualTo("done\n");
    }

    @Test
    void aCallerThatHangsUpEndsItsRun(CapturedOutput output) throws Exception {
        String marker = UUID.randomUUID().toString();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            RawHttp.send(socket, "POST", RUN, "", "{\"command\": [\"sh\", \"-c\", \"sleep 300; : " + marker + "\"]}");
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
            RawHttp.send(socket, "POST", RUN, "", "{\"command\": [\"sh\", \"-c\", \"sleep 300; : " + marker + "\"]}");
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

    private RawHttp.Answer run(String json) throws IOException {
        return RawHttp.exchange(port, "POST", RUN, "", json);
    }

    private String url() {
        return "http://127.0.0.1:" + port + RUN;
    }
}
