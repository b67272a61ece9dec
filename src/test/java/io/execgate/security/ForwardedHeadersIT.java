package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.execgate.support.ForkedService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In a Kubernetes pod Spring Boot trusts {@code X-Forwarded-For} from any private address unless told otherwise,
 * which would let a caller write any address into the audit trail. The service runs from the packaged jar with
 * the variables a pod has, and a caller sends the header.
 */
class ForwardedHeadersIT {

    private static final String TOKEN = "forwarded-headers-test-token";

    @TempDir
    Path dir;

    @Test
    void theAuditedAddressIsThePeersWhateverTheHeadersSay() throws Exception {
        Map<String, String> env = Map.of("EXECGATE_DATA_DIR", dir.resolve("data").toString(),
                "EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN,
                "KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443");
        try (ForkedService service = ForkedService.start(ForkedService.jarCommand(), Path.of("."), env,
                ForkedService.freePort(), dir.resolve("service.log"))) {
            assertThat(service.awaitLive(Duration.ofSeconds(60))).as("live; log: %s", service.log()).isTrue();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> run = http.send(HttpRequest.newBuilder(service.uri("/api/v1/host/execs/run"))
                    .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                    .header("X-Forwarded-For", "203.0.113.77").header("X-Real-IP", "203.0.113.78")
                    .header("Forwarded", "for=203.0.113.79")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"command\": [\"true\"]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(run.statusCode()).isEqualTo(200);
            HttpResponse<String> denied = http.send(HttpRequest.newBuilder(service.uri("/api/v1/host/execs"))
                    .header("X-Forwarded-For", "203.0.113.66").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(denied.statusCode()).isEqualTo(401);
            String log = service.log();
            assertThat(log).contains("\"event\":\"exec.start\"", "\"event\":\"access.denied\"");
            assertThat(log.lines().filter(l -> l.contains("execgate.audit") && l.contains("remoteAddress")))
                    .isNotEmpty()
                    .allSatisfy(line -> assertThat(line).contains("\"remoteAddress\":\"127.0.0.1\""));
            assertThat(log).doesNotContain("203.0.113.");
        }
    }
}
