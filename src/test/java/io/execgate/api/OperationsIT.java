package io.execgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.execgate.support.Api;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** Health groups with one indicator per backend, and Prometheus metrics that move as execs run. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class OperationsIT {

    @Autowired
    RestTestClient http;
    Api api;

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void healthIsPublicWithLivenessReadinessAndABackendIndicatorEach() {
        Api.Response health = api.as(null).get("/actuator/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().path("status").asString()).isEqualTo("UP");
        JsonNode backends = health.json().path("components").path("backends").path("components");
        assertThat(backends.path("local-host").path("status").asString()).isEqualTo("UP");
        assertThat(backends.path("hcs-container").path("status").asString()).as("not on Linux: unknown, not down")
                .isEqualTo("UNKNOWN");
        assertThat(api.as(null).get("/actuator/health/liveness").json().path("status").asString()).isEqualTo("UP");
        JsonNode readiness = api.as(null).get("/actuator/health/readiness").json();
        assertThat(readiness.path("status").asString()).isEqualTo("UP");
        assertThat(readiness.path("components").has("backends")).isTrue();
        // details (paths, versions) only for a caller with a token
        assertThat(backends.path("local-host").has("details")).isFalse();
        assertThat(api.get("/actuator/health").json().path("components").path("backends").path("components")
                .path("local-host").path("details").path("detail").asString()).contains("posix_spawn");
    }

    @Test
    void prometheusNeedsAViewerAndItsCountersMoveWithExecs() {
        assertThat(api.as(null).get("/actuator/prometheus").status()).isEqualTo(401);
        String before = metrics();
        api.run("{\"command\": [\"sh\", \"-c\", \"printf 12345; printf 67 >&2\"]}");
        api.post("/api/v1/host/execs", "{\"command\": [\"/no/such\"]}").isProblem(422, "EXEC_START_FAILED");
        String after = metrics();
        assertThat(value(after, "execgate_execs_started_total\\{outcome=\"started\",target_kind=\"host\"\\}")
                - value(before, "execgate_execs_started_total\\{outcome=\"started\",target_kind=\"host\"\\}")).isEqualTo(1);
        assertThat(value(after, "execgate_execs_started_total\\{outcome=\"failed\",target_kind=\"host\"\\}")
                - value(before, "execgate_execs_started_total\\{outcome=\"failed\",target_kind=\"host\"\\}")).isEqualTo(1);
        assertThat(value(after, "execgate_stream_bytes_total\\{stream=\"stdout\"\\}")
                - value(before, "execgate_stream_bytes_total\\{stream=\"stdout\"\\}")).isEqualTo(5);
        assertThat(value(after, "execgate_stream_bytes_total\\{stream=\"stderr\"\\}")
                - value(before, "execgate_stream_bytes_total\\{stream=\"stderr\"\\}")).isEqualTo(2);
        assertThat(value(after, "execgate_exec_start_seconds_count")).isGreaterThan(value(before, "execgate_exec_start_seconds_count"));
        assertThat(after).contains("execgate_exec_start_seconds_bucket{", "execgate_execs_running ", "execgate_attachments ",
                "execgate_output_dropped_bytes_total ");
        // requests are observed once each; Spring Security's per-filter observations are off (they cost a fifth of
        // a request's CPU)
        assertThat(after).contains("http_server_requests_seconds_count{").doesNotContain("spring_security_");
    }

    private String metrics() {
        Api.Response response = api.get("/actuator/prometheus");
        assertThat(response.status()).isEqualTo(200);
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " ([0-9.eE+-]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
