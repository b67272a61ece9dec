package io.execgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.execgate.support.Api;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code openapi.yaml} is the document the service serves. Regenerate it with
 * {@code ./mvnw verify -Dopenapi.update=true} and review the diff.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class OpenApiDocumentIT {

    private static final Path COMMITTED = Path.of("openapi.yaml");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Autowired
    RestTestClient http;

    @Test
    void theCommittedDocumentIsTheServedOne() throws Exception {
        byte[] body = http.get().uri("/v3/api-docs.yaml").exchange().expectStatus().isOk()
                .returnResult(byte[].class).getResponseBody();
        String served = new String(body, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("openapi.update")) {
            Files.writeString(COMMITTED, served);
            return;
        }
        if (!Files.exists(COMMITTED)) {
            fail("openapi.yaml is missing; write it with ./mvnw verify -Dopenapi.update=true");
        }
        List<String> committed = Files.readAllLines(COMMITTED);
        List<String> current = served.lines().toList();
        for (int i = 0; i < Math.max(committed.size(), current.size()); i++) {
            String was = i < committed.size() ? committed.get(i) : "<end of file>";
            String is = i < current.size() ? current.get(i) : "<end of document>";
            if (!was.equals(is)) {
                fail("openapi.yaml differs from the served document at line %d:%n  committed: %s%n  served:    %s%n"
                        + "Regenerate it with ./mvnw verify -Dopenapi.update=true and review the diff.", i + 1, was, is);
            }
        }
    }

    @Test
    void theDocumentCoversEveryOperationWithItsErrors() {
        String served = new String(http.get().uri("/v3/api-docs.yaml").exchange().returnResult(byte[].class)
                .getResponseBody(), StandardCharsets.UTF_8);
        assertThat(served).contains("/api/v1/host/execs/run:", "/api/v1/execs/{id}/exit:", "/api/v1/containers/{id}/execs:",
                "/api/v1/uvms/{id}/execs/run:", "application/problem+json", "EXEC_START_FAILED", "TOO_MANY_EXECS",
                "  url: /\n");
        assertThat(http.get().uri("/swagger-ui.html").exchange().returnResult(byte[].class).getStatus().is3xxRedirection()
                || http.get().uri("/swagger-ui/index.html").exchange().returnResult(byte[].class).getStatus().is2xxSuccessful())
                .isTrue();
    }

    /**
     * The statuses the service really sends are documented: every operation that takes a body can be answered 413
     * (a body over execgate.security.max-request-body) and 415 (a body that is not JSON), and the one-step streams
     * 409 (an id several containers answer to, a target that stopped).
     */
    @Test
    void bodiesCanBeTooLargeOrOfTheWrongTypeAndOneStepStreamsCanConflict() {
        JsonNode paths = JSON.readTree(http.get().uri("/v3/api-docs").exchange().returnResult(byte[].class)
                .getResponseBody()).path("paths");
        List<String> withBodies = new java.util.ArrayList<>();
        paths.properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (operation.getValue().has("requestBody")) {
                String name = operation.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey();
                withBodies.add(name);
                JsonNode responses = operation.getValue().path("responses");
                assertThat(responses.has("413")).as("%s documents 413", name).isTrue();
                assertThat(responses.has("415")).as("%s documents 415", name).isTrue();
                assertThat(responses.path("413").path("content").path("application/problem+json").path("examples")
                        .has("REQUEST_TOO_LARGE")).as("%s has a 413 example", name).isTrue();
                assertThat(responses.path("415").path("content").path("application/problem+json").path("examples")
                        .has("UNSUPPORTED_MEDIA_TYPE")).as("%s has a 415 example", name).isTrue();
            }
        }));
        assertThat(withBodies).contains("POST /api/v1/host/execs", "POST /api/v1/containers/{id}/execs/run",
                "POST /api/v1/execs/{id}/signal", "POST /api/v1/uvms");
        for (String oneStep : List.of("/api/v1/host/exec", "/api/v1/containers/{id}/exec", "/api/v1/uvms/{id}/exec")) {
            assertThat(paths.path(oneStep).path("get").path("responses").has("409")).as("GET %s documents 409", oneStep)
                    .isTrue();
        }
    }

    /**
     * Every null in a real exec resource is one the document allows, so clients generated from it (or that
     * validate answers against it) accept what the service sends: a referenced object that may be null ({@code io})
     * too, not only plain values.
     */
    @Test
    void theNullsTheServiceSendsAreNullsTheDocumentAllows() {
        JsonNode document = JSON.readTree(http.get().uri("/v3/api-docs").exchange().returnResult(byte[].class)
                .getResponseBody());
        JsonNode exec = new Api(http).create("{\"command\": [\"true\"]}");
        JsonNode properties = document.path("components").path("schemas").path("Exec").path("properties");
        List<String> nulls = exec.properties().stream().filter(e -> e.getValue().isNull()).map(Map.Entry::getKey).toList();
        assertThat(nulls).contains("io");
        for (String name : nulls) {
            JsonNode property = properties.path(name);
            boolean typed = property.path("type").valueStream().anyMatch(t -> t.asString().equals("null"));
            boolean branch = property.path("anyOf").valueStream().anyMatch(b -> b.path("type").asString().equals("null"));
            assertThat(typed || branch).as("Exec.%s is null in the answer; the document says %s", name, property).isTrue();
        }
    }
}
