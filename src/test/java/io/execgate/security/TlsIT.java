package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

import io.execgate.ExecgateApplication;
import io.execgate.support.Api;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** HTTPS through a Spring Boot SSL bundle, with a self-signed certificate made here as the README shows. */
class TlsIT {

    @TempDir
    Path dir;

    @Test
    void theServiceAnswersOverHttpsWithItsBundle() throws Exception {
        Path keystore = dir.resolve("execgate.p12");
        Path keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool");
        Process made = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "execgate", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "30", "-dname", "CN=localhost",
                "-ext", "san=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "changeit").redirectErrorStream(true).start();
        assertThat(made.waitFor(60, TimeUnit.SECONDS) && made.exitValue() == 0)
                .as(new String(made.getInputStream().readAllBytes())).isTrue();

        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(ExecgateApplication.class).run(
                "--server.port=0", "--server.ssl.bundle=web",
                "--spring.ssl.bundle.jks.web.keystore.location=file:" + keystore,
                "--spring.ssl.bundle.jks.web.keystore.password=changeit",
                "--spring.ssl.bundle.jks.web.keystore.type=PKCS12")) {
            int port = ((WebServerApplicationContext) context).getWebServer().getPort();
            HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(keystore)).build();
            HttpResponse<String> answer = trusting.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                    + "/api/v1/host")).header("Authorization", "Bearer " + Api.ADMIN_TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).contains("\"os\":\"linux\"");
            // a client that does not trust the certificate gets no further than the handshake
            try {
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                        + "/api/v1/host")).build(), HttpResponse.BodyHandlers.discarding());
                throw new AssertionError("an unknown certificate was trusted");
            } catch (SSLHandshakeException expected) {
                // as it should be
            }
        }
    }

    private static SSLContext trusting(Path keystore) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
