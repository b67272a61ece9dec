package io.execgate.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A thin client for the execgate API in integration tests: real HTTP against the service on its random port. */
public final class Api {

    /** The admin token every integration test uses (src/test/resources/application.properties). */
    public static final String ADMIN_TOKEN = "test-admin-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final RestTestClient http;
    private final String token;

    public Api(RestTestClient http) {
        this(http, ADMIN_TOKEN);
    }

    /** A client with another token, or none when {@code token} is null. */
    public Api(RestTestClient http, @Nullable String token) {
        this.http = http;
        this.token = token;
    }

    /** The same client with another token (null: none). */
    public Api as(@Nullable String otherToken) {
        return new Api(http, otherToken);
    }

    /** An answer: its status, headers, raw body, and the body as JSON when it is JSON. */
    public record Response(int status, HttpHeaders headers, byte[] body, @Nullable JsonNode json) {

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** Asserts an {@code application/problem+json} answer with this status and code. */
        public Response isProblem(int expectedStatus, String code) {
            assertThat(status).as("status of %s", text()).isEqualTo(expectedStatus);
            assertThat(headers.getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
            assertThat(json.path("code").asString()).isEqualTo(code);
            assertThat(json.path("status").asInt()).isEqualTo(expectedStatus);
            assertThat(json.path("type").asString()).startsWith("urn:execgate:problem:");
            assertThat(json.path("detail").asString()).isNotBlank();
            return this;
        }

        public JsonNode expect(int expectedStatus) {
            assertThat(status).as("status of %s", text()).isEqualTo(expectedStatus);
            return json;
        }
    }

    public Response post(String uri, @Nullable String json) {
        var request = http.post().uri(uri).headers(this::authorize);
        if (json != null) {
            request.contentType(MediaType.APPLICATION_JSON).body(json);
        }
        return answer(request.exchange().returnResult(byte[].class));
    }

    public Response get(String uri) {
        return answer(http.get().uri(uri).headers(this::authorize).exchange().returnResult(byte[].class));
    }

    public Response delete(String uri) {
        return answer(http.delete().uri(uri).headers(this::authorize).exchange().returnResult(byte[].class));
    }

    /** {@code POST /api/v1/host/execs/run}, expecting 200. */
    public JsonNode run(String json) {
        return post("/api/v1/host/execs/run", json).expect(200);
    }

    /** {@code POST /api/v1/host/execs}, expecting 201. */
    public JsonNode create(String json) {
        return post("/api/v1/host/execs", json).expect(201);
    }

    /** Waits (up to 30 s) for an exec's end and returns its exit resource. */
    public JsonNode awaitExit(String id) {
        JsonNode exit = get("/api/v1/execs/" + id + "/exit?wait=PT30S").expect(200);
        assertThat(exit.path("exited").asBoolean()).as("exec %s ended within 30 s", id).isTrue();
        return exit;
    }

    private void authorize(HttpHeaders headers) {
        if (token != null) {
            headers.setBearerAuth(token);
        }
    }

    private static Response answer(EntityExchangeResult<byte[]> result) {
        byte[] body = result.getResponseBody() == null ? new byte[0] : result.getResponseBody();
        MediaType type = result.getResponseHeaders().getContentType();
        JsonNode json = type != null && type.getSubtype().endsWith("json") && body.length > 0 ? JSON.readTree(body) : null;
        return new Response(result.getStatus().value(), result.getResponseHeaders(), body, json);
    }
}
