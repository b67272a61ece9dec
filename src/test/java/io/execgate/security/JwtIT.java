package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.execgate.ExecgateApplication;
import io.execgate.support.Api;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/** With a JWT issuer's key configured, JWTs are accepted too, their roles taken from the configured claim. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.security.roles-claim=execgate_roles",
        "spring.security.oauth2.resourceserver.jwt.audiences=execgate"})
@AutoConfigureRestTestClient
class JwtIT {

    private static final KeyPair KEYS = keys();

    @Autowired
    RestTestClient http;
    Api api;

    @DynamicPropertySource
    static void issuerKey(DynamicPropertyRegistry registry) throws Exception {
        Path pem = Files.createTempFile("execgate-jwt", ".pub");
        pem.toFile().deleteOnExit();
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(KEYS.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        registry.add("spring.security.oauth2.resourceserver.jwt.public-key-location", () -> "file:" + pem);
    }

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void jwtsWithRolesInTheClaimAreAccepted() throws Exception {
        Api operator = api.as(jwt("ci-bot", List.of("operator"), KEYS));
        assertThat(operator.get("/api/v1/host").status()).isEqualTo(200);
        operator.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        operator.post("/api/v1/containers/ctr1/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");

        Api admin = api.as(jwt("alice", List.of("admin", "some-other-system-role"), KEYS));
        assertThat(admin.run("{\"command\": [\"true\"]}").path("exec").path("state").asString()).isEqualTo("exited");

        api.as(jwt("mallory", List.of("admin"), keys())).get("/api/v1/host").isProblem(401, "UNAUTHORIZED");
        // a token the same issuer made for another audience
        api.as(jwt("other-app", List.of("admin"), KEYS, "some-other-service")).get("/api/v1/host")
                .isProblem(401, "UNAUTHORIZED");
        api.as(jwt("shouty", List.of("ADMIN", "Admin"), KEYS)).get("/api/v1/host").isProblem(403, "FORBIDDEN");
        api.as(jwt("nobody", List.of(), KEYS)).get("/api/v1/host").isProblem(403, "FORBIDDEN");
        // no subject: every such caller would be one principal (one quota, one name in the audit)
        api.as(jwt(null, List.of("admin"), KEYS)).get("/api/v1/host").isProblem(401, "UNAUTHORIZED");
        assertThat(api.get("/api/v1/host").status()).as("static tokens still work").isEqualTo(200);
    }

    @Test
    void jwtsWithoutAnAudienceAreRefusedAtStart() throws Exception {
        Path pem = Files.createTempFile("execgate-jwt", ".pub");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(KEYS.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        try {
            new org.springframework.boot.builder.SpringApplicationBuilder(io.execgate.ExecgateApplication.class)
                    .run("--server.port=0", "--spring.security.oauth2.resourceserver.jwt.public-key-location=file:" + pem)
                    .close();
            throw new AssertionError("the service started without a JWT audience");
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertThat(root.getMessage()).contains("spring.security.oauth2.resourceserver.jwt.audiences");
        } finally {
            Files.deleteIfExists(pem);
        }
    }

    /**
     * An audience given as a list (YAML, {@code audiences[0]}, {@code ..._AUDIENCES_0}) is an audience: the service
     * starts and takes a JWT made for it, and still refuses one made for another application.
     */
    @Test
    void anAudienceGivenAsAListIsAccepted(@TempDir Path dataDir) throws Exception {
        Path pem = Files.createTempFile("execgate-jwt", ".pub");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(KEYS.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        try (ConfigurableApplicationContext service = new SpringApplicationBuilder(ExecgateApplication.class).run(
                "--server.port=0", "--execgate.data-dir=" + dataDir, "--execgate.security.roles-claim=execgate_roles",
                "--spring.security.oauth2.resourceserver.jwt.public-key-location=file:" + pem,
                "--spring.security.oauth2.resourceserver.jwt.audiences[0]=execgate")) {
            int port = ((WebServerApplicationContext) service).getWebServer().getPort();
            assertThat(status(port, jwt("ci-bot", List.of("viewer"), KEYS))).isEqualTo(200);
            assertThat(status(port, jwt("other-app", List.of("viewer"), KEYS, "some-other-service"))).isEqualTo(401);
        } finally {
            Files.deleteIfExists(pem);
        }
    }

    private static int status(int port, String token) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/host"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }

    private static String jwt(String subject, List<String> roles, KeyPair keys) throws Exception {
        return jwt(subject, roles, keys, "execgate");
    }

    private static String jwt(String subject, List<String> roles, KeyPair keys, String audience) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), new JWTClaimsSet.Builder().subject(subject)
                .audience(audience).claim("execgate_roles", roles).issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        jwt.sign(new RSASSASigner((RSAPrivateKey) keys.getPrivate()));
        return jwt.serialize();
    }

    private static KeyPair keys() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
