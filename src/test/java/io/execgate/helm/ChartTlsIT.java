package io.execgate.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.marcnuri.helm.Helm;
import io.execgate.support.ForkedService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart's TLS settings, taken from the rendered DaemonSet and given to the packaged jar with a certificate made
 * for the test, laid out as the kubelet mounts a Secret: the service answers HTTPS with that certificate and
 * nothing in the clear, and serves a renewed one once the kubelet's way of swapping the files has put it there.
 */
class ChartTlsIT {

    private static final String TOKEN = "chart-tls-test-token-0123456789";
    private static final String MOUNT = "/etc/execgate/tls";

    @TempDir
    Path dir;

    @Test
    void theChartsTlsSettingsMakeTheServiceAnswerHttpsOnly() throws Exception {
        Map<String, String> env = new HashMap<>();
        for (Map.Entry<String, String> variable : chartEnvironment().entrySet()) {
            if (variable.getKey().startsWith("SERVER_SSL") || variable.getKey().startsWith("SPRING_SSL")) {
                env.put(variable.getKey(), variable.getValue().replace(MOUNT, dir.toString()));
            }
        }
        assertThat(env).as("the chart's TLS variables").containsKeys("SERVER_SSL_BUNDLE",
                "SPRING_SSL_BUNDLE_PEM_EXECGATE_KEYSTORE_CERTIFICATE", "SPRING_SSL_BUNDLE_PEM_EXECGATE_KEYSTORE_PRIVATEKEY");
        // The kubelet's layout: the files are links through ..data to a directory of the Secret's current version.
        KeyStore trusted = certificate(dir.resolve("..2026_12_03_first"), "first");
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2026_12_03_first"));
        Files.createSymbolicLink(dir.resolve("tls.crt"), Path.of("..data/tls.crt"));
        Files.createSymbolicLink(dir.resolve("tls.key"), Path.of("..data/tls.key"));
        env.put("EXECGATE_DATA_DIR", dir.resolve("data").toString());
        env.put("EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN);
        int port = ForkedService.freePort();
        try (ForkedService service = ForkedService.start(ForkedService.jarCommand(), Path.of("."), env, port,
                dir.resolve("service.log"))) {
            HttpClient https = trusting(trusted);
            URI base = URI.create("https://127.0.0.1:" + port);
            assertThat(service.awaitLive(https, base, Duration.ofSeconds(60))).as("live over HTTPS; log: %s",
                    service.log()).isTrue();
            HttpResponse<String> run = https.send(HttpRequest.newBuilder(base.resolve("/api/v1/host/execs/run"))
                    .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"command\": [\"echo\", \"over tls\"]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(run.statusCode()).isEqualTo(200);
            assertThat(run.body()).contains("\"stdout\":\"over tls\\n\"");
            // In the clear, a client gets no answer of the service's: Tomcat refuses plain HTTP on a TLS port.
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest clear = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                    .timeout(Duration.ofSeconds(10)).build();
            try {
                HttpResponse<String> answer = plain.send(clear, HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as("plain HTTP is refused").isEqualTo(400);
                assertThat(answer.body()).doesNotContain("UP");
            } catch (IOException refused) {
                // the connection was closed: refused too
            }
            // A client that does not trust the certificate does not get in either.
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    base.resolve("/actuator/health/liveness")).build(), HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(IOException.class);

            // Renewed as the kubelet renews a Secret: a new version's directory, then ..data swapped to it at once.
            HttpClient renewed = trusting(certificate(dir.resolve("..2026_12_03_second"), "second"));
            Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2026_12_03_second"));
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            assertThat(service.awaitLive(renewed, base, Duration.ofSeconds(60)))
                    .as("the renewed certificate is served; log: %s", service.log()).isTrue();
        }
    }

    private static HttpClient trusting(KeyStore trusted) throws Exception {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, trust.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The execgate container's environment in a DaemonSet rendered with tls.secretName. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> chartEnvironment() {
        String manifest = new Helm(Path.of("helm/execgate")).template().withName("t").set("adminToken", TOKEN)
                .set("tls.secretName", "execgate-tls").call();
        for (Object document : new Yaml().loadAll(manifest)) {
            if (document instanceof Map<?, ?> object && "DaemonSet".equals(object.get("kind"))) {
                Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) object
                        .get("spec")).get("template")).get("spec");
                Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).getFirst();
                Map<String, String> env = new HashMap<>();
                for (Map<String, Object> entry : (List<Map<String, Object>>) container.get("env")) {
                    if (entry.get("value") != null) {
                        env.put((String) entry.get("name"), String.valueOf(entry.get("value")));
                    }
                }
                return env;
            }
        }
        throw new AssertionError("no DaemonSet rendered");
    }

    /**
     * A self-signed certificate for 127.0.0.1 made with the JDK's keytool, written into {@code dir} as a
     * kubernetes.io/tls Secret holds it (tls.crt, and tls.key in PKCS #8); the key store a client trusts it from.
     */
    private static KeyStore certificate(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        Path store = dir.resolve("server.p12");
        Path keytool = Path.of(ForkedService.JAVA).resolveSibling("keytool");
        Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "execgate", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=execgate-" + name, "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String output;
        try (InputStream out = process.getInputStream()) {
            output = new String(out.readAllBytes());
        }
        assertThat(process.waitFor()).as("keytool: %s", output).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) keys.getKey("execgate", "changeit".toCharArray());
        Certificate certificate = keys.getCertificate("execgate");
        Files.writeString(dir.resolve("tls.crt"), pem("CERTIFICATE", certificate.getEncoded()));
        Files.writeString(dir.resolve("tls.key"), pem("PRIVATE KEY", key.getEncoded()));
        Files.delete(store);
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("execgate", certificate);
        return trusted;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
