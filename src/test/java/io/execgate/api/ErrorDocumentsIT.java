package io.execgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import io.execgate.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Requests turned down before MVC sees them (by the security firewall, or by Tomcat itself) get the problem documents
 * every other error gets, not Spring Boot's error JSON or Tomcat's HTML page. Sent on raw sockets: HTTP clients
 * refuse to send such URLs.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class ErrorDocumentsIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @Test
    void urlsTheFirewallTurnsDownAreProblemsThatSayWhyAndAreAudited(CapturedOutput output) throws IOException {
        for (String path : new String[] {"/api/v1//execs", "/api/v1/execs/%2e%2e/x", "/api/v1/execs;jsessionid=1"}) {
            JsonNode problem = problem(get(path, ""), 400, "INVALID_REQUEST");
            assertThat(problem.path("detail").asString()).as(path).startsWith("The request was rejected because the URL");
            assertThat(problem.path("instance").asString()).isEqualTo(path);
        }
        assertThat(output.getAll().lines().filter(l -> l.contains("\"event\":\"access.denied\"")
                && l.contains("\"path\":\"/api/v1//execs\""))).singleElement().asString().contains("\"status\":400");
    }

    @Test
    void whatTomcatTurnsDownIsAProblemToo() throws IOException {
        assertThat(problem(get("/api/v1/execs/%00", ""), 400, "INVALID_REQUEST").path("detail").asString())
                .isEqualTo("Invalid URI");
        JsonNode badEscape = problem(get("/api/v1/execs/%zz", ""), 400, "INVALID_REQUEST");
        assertThat(badEscape.path("detail").asString()).contains("hexadecimal");
        assertThat(badEscape.has("instance")).as("no instance a URI cannot hold").isFalse();
        problem(get("/api/v1/host", "X-Big: " + "a".repeat(20_000) + "\r\n"), 400, "INVALID_REQUEST");
    }

    @Test
    void theErrorPathItselfIsNotFound() throws IOException {
        problem(get("/error", ""), 404, "NOT_FOUND");
    }

    /**
     * Bodies no endpoint takes are never parsed: not a form body on a PUT, PATCH or DELETE (Spring's form filter runs
     * before authentication), nor a multipart one (parsed before the handler is found, and spooled to disk).
     */
    @Test
    void formAndMultipartBodiesAreNotParsedBeforeAuthentication() throws IOException {
        problem(withoutToken("DELETE", "/api/v1/execs/x", "application/x-www-form-urlencoded", "a=%zz"), 401,
                "UNAUTHORIZED");
        RawHttp.Answer cut = withoutToken("POST", "/error", "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv");
        assertThat(cut.statusLine()).startsWith("HTTP/1.1 4");
        RawHttp.Answer upload = withoutToken("POST", "/error", "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n" + "z".repeat(1 << 20)
                        + "\r\n--x--\r\n");
        assertThat(upload.statusLine()).startsWith("HTTP/1.1 4");
    }

    private RawHttp.Answer withoutToken(String method, String path, String type, String body) throws IOException {
        return RawHttp.exchangeAsIs(port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type
                + "\r\nContent-Length: " + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n" + body);
    }

    private static JsonNode problem(RawHttp.Answer answer, int status, String code) {
        assertThat(answer.statusLine()).startsWith("HTTP/1.1 " + status);
        assertThat(answer.head()).containsIgnoringCase("content-type: application/problem+json");
        JsonNode problem = JSON.readTree(answer.body());
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("code").asString()).isEqualTo(code);
        assertThat(problem.path("type").asString()).startsWith("urn:execgate:problem:");
        assertThat(problem.path("title").asString()).isNotBlank();
        return problem;
    }

    private RawHttp.Answer get(String path, String headers) throws IOException {
        return RawHttp.exchange(port, "GET", path, headers, "");
    }
}
