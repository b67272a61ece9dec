package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.execgate.upstream.UpstreamPlan;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.jwt.JwtException;

class SecurityPartsTest {

    @Test
    void tokensAreFoundByTheirDigestOnly() {
        String sha = HexFormat.of().formatHex(StaticTokens.sha256("s3cret"));
        StaticTokens tokens = StaticTokens.of(List.of(new SecurityProperties.TokenEntry("ci", sha.toUpperCase(),
                        List.of(Role.OPERATOR))), List.of(new StaticTokens.Principal("admin", Set.of(Role.ADMIN))),
                List.of("root-token"));
        assertThat(tokens.authenticate("s3cret")).hasValueSatisfying(p -> assertThat(p.name()).isEqualTo("ci"));
        assertThat(tokens.authenticate("root-token")).hasValueSatisfying(p -> assertThat(p.roles()).containsExactly(Role.ADMIN));
        assertThat(tokens.authenticate(sha)).as("the digest is not the token").isEmpty();
        assertThat(tokens.authenticate("")).isEmpty();
    }

    @Test
    void theBearerTokenComesFromTheHeaderOrAWebSocketSubprotocolNeverTheQuery() {
        BearerTokens resolver = new BearerTokens();
        MockHttpServletRequest header = new MockHttpServletRequest("GET", "/api/v1/host");
        header.addHeader("Authorization", "Bearer abc");
        assertThat(resolver.resolve(header)).isEqualTo("abc");

        MockHttpServletRequest query = new MockHttpServletRequest("GET", "/api/v1/host");
        query.setParameter("access_token", "abc");
        assertThat(resolver.resolve(query)).isNull();

        MockHttpServletRequest handshake = upgrade("v5.channel.k8s.io, " + BearerTokens.SUBPROTOCOL_PREFIX + encode("tök"));
        assertThat(resolver.resolve(handshake)).isEqualTo("tök");
        MockHttpServletRequest post = upgrade(BearerTokens.SUBPROTOCOL_PREFIX + encode("x"));
        post.setMethod("POST");
        assertThat(resolver.resolve(post)).as("only on a GET handshake").isNull();
        MockHttpServletRequest rest = upgrade(BearerTokens.SUBPROTOCOL_PREFIX + encode("x"));
        rest.setRequestURI("/api/v1/host/execs");
        assertThat(resolver.resolve(rest)).as("only on the stream endpoints").isNull();
        MockHttpServletRequest plainGet = new MockHttpServletRequest("GET", "/api/v1/host/exec");
        plainGet.addHeader("Sec-WebSocket-Protocol", BearerTokens.SUBPROTOCOL_PREFIX + encode("x"));
        assertThat(resolver.resolve(plainGet)).as("only on upgrades").isNull();

        assertThatExceptionOfType(OAuth2AuthenticationException.class).isThrownBy(() -> resolver.resolve(
                upgrade(BearerTokens.SUBPROTOCOL_PREFIX + encode("a") + "," + BearerTokens.SUBPROTOCOL_PREFIX + encode("b"))));
        assertThatExceptionOfType(OAuth2AuthenticationException.class).isThrownBy(() -> resolver.resolve(
                upgrade(BearerTokens.SUBPROTOCOL_PREFIX + "!!notbase64")));
    }

    @Test
    void secretLookingValuesAreMaskedInTheAuditLog() {
        assertThat(ExecAuditLog.maskEnv("GITHUB_TOKEN=abc")).isEqualTo("GITHUB_TOKEN=***");
        assertThat(ExecAuditLog.maskEnv("db_password=abc")).isEqualTo("db_password=***");
        assertThat(ExecAuditLog.maskEnv("AWS_SECRET_ACCESS_KEY=abc")).isEqualTo("AWS_SECRET_ACCESS_KEY=***");
        assertThat(ExecAuditLog.maskEnv("PATH=/bin")).isEqualTo("PATH=/bin");
        assertThat(ExecAuditLog.maskArguments(List.of("tool", "--password=abc", "--api-key=abc", "--name=abc", "plain")))
                .containsExactly("tool", "--password=***", "--api-key=***", "--name=abc", "plain");
        assertThat(ExecAuditLog.maskArguments(List.of("mysql", "--password", "abc", "--user", "root")))
                .containsExactly("mysql", "--password", "***", "--user", "root");
        assertThat(ExecAuditLog.maskArguments(List.of("curl", "-H", "Authorization: Bearer abc.def", "-H",
                "Cookie: session=abc", "https://x")))
                .containsExactly("curl", "-H", "Authorization: ***", "-H", "Cookie: ***", "https://x");
        assertThat(ExecAuditLog.maskArguments(List.of("sh", "-c", "curl -H 'authorization: bearer abc' x")))
                .element(2).asString().doesNotContain("abc");
    }

    /** A driver's query is pairs: the value is masked by its key, which has no dashes when the URI gives none. */
    @Test
    void aLoggingDriversQueryValuesAreMaskedByTheirKeys() {
        UpstreamPlan.Binary binary = (UpstreamPlan.Binary) UpstreamPlan.parse(null,
                "binary:///usr/bin/logger?token=s3cr3t&api_key=k3y&--password=pw&tag=web&-v&Authorization=Bearer%20x",
                null, null, false);
        assertThat(ExecAuditLog.maskDriverArguments(binary)).containsExactly("--password", "***", "-v",
                "Authorization", "***", "api_key", "***", "tag", "web", "token", "***");
        assertThat(binary.arguments()).as("the driver itself gets them as they are").containsExactly("--password", "pw",
                "-v", "Authorization", "Bearer x", "api_key", "k3y", "tag", "web", "token", "s3cr3t");
        // a secret-named flag whose value is the next key: masked as any command's argument after such a flag
        assertThat(ExecAuditLog.maskDriverArguments((UpstreamPlan.Binary) UpstreamPlan.parse(null,
                "binary:///usr/bin/logger?--password&hunter2", null, null, false)))
                .containsExactly("--password", "***");
    }

    /**
     * A token is refused at start unless Spring's header resolver can take it (RFC 6750's characters): one the
     * validation lets through always authenticates from an Authorization header.
     */
    @Test
    void anAdminTokenIsABearerTokenOrTheServiceDoesNotStart() {
        try (var factory = jakarta.validation.Validation.buildDefaultValidatorFactory()) {
            var validator = factory.getValidator();
            BearerTokens resolver = new BearerTokens();
            for (String good : List.of("aZ09-._~+/aZ09-._~+/==", "0123456789abcdef", "")) {
                assertThat(validator.validate(properties(good))).as(good).isEmpty();
                if (!good.isEmpty()) {
                    MockHttpServletRequest request = new MockHttpServletRequest("GET", "/api/v1/host");
                    request.addHeader("Authorization", "Bearer " + good);
                    assertThat(resolver.resolve(request)).isEqualTo(good);
                }
            }
            assertThat(validator.validate(properties("fifteen-chars-x"))).as("too short").singleElement()
                    .satisfies(v -> assertThat(v.getMessage()).contains("at least 16 characters of A-Z"));
            for (String bad : List.of("Adm1n!Token#With$Symbols", "a token with spaces in it", "padding=in-the-middle",
                    "tök-tök-tök-tök-tök")) {
                assertThat(validator.validate(properties(bad))).as(bad).singleElement()
                        .satisfies(v -> assertThat(v.getMessage()).contains("at least 16 characters of A-Z"));
                MockHttpServletRequest request = new MockHttpServletRequest("GET", "/api/v1/host");
                request.addHeader("Authorization", "Bearer " + bad);
                assertThatExceptionOfType(OAuth2AuthenticationException.class).as(bad)
                        .isThrownBy(() -> resolver.resolve(request));
            }
        }
    }

    private static SecurityProperties properties(String adminToken) {
        return new SecurityProperties(List.of(), adminToken, List.of(), "roles",
                org.springframework.util.unit.DataSize.ofMegabytes(4));
    }

    /** A name keys its principal's quotas and audit lines: two tokens may not share one, nor take a reserved one. */
    @Test
    void tokenNamesAreUniqueAndNotReserved() {
        String sha = HexFormat.of().formatHex(StaticTokens.sha256("s3cret-s3cret-s3cret"));
        for (String reserved : List.of("admin", "execgate")) {
            assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> StaticTokens.of(
                    List.of(new SecurityProperties.TokenEntry(reserved, sha, List.of(Role.OPERATOR))), List.of(), List.of()))
                    .withMessageContaining("the name " + reserved + " is reserved");
        }
        String other = HexFormat.of().formatHex(StaticTokens.sha256("another-another-another"));
        assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> StaticTokens.of(List.of(
                        new SecurityProperties.TokenEntry("ci", sha, List.of(Role.OPERATOR)),
                        new SecurityProperties.TokenEntry("ci", other, List.of(Role.VIEWER))), List.of(), List.of()))
                .withMessageContaining("two tokens are named ci");
        assertThat(StaticTokens.of(List.of(new SecurityProperties.TokenEntry("ci", sha, List.of(Role.OPERATOR)),
                        new SecurityProperties.TokenEntry("ci-2", other, List.of(Role.VIEWER))), List.of(), List.of())
                .authenticate("another-another-another")).hasValueSatisfying(p -> assertThat(p.name()).isEqualTo("ci-2"));
    }

    @Test
    void jwtRolesComeFromAListOrAStringAndUnknownOnesAreIgnored() {
        assertThat(SecurityConfiguration.roles(List.of("admin", "kube-admin", "Admin", "OPERATOR"))).extracting(a -> a.getAuthority())
                .as("exact names only").containsExactly("ROLE_ADMIN");
        assertThat(SecurityConfiguration.roles("viewer operator")).extracting(a -> a.getAuthority())
                .containsExactly("ROLE_VIEWER", "ROLE_OPERATOR");
        assertThat(SecurityConfiguration.roles(null)).isEmpty();
    }

    /**
     * The audience guard sees an audience in every form Spring Boot binds to the decoder's list: a comma-separated
     * value, a YAML list or indexed keys ({@code audiences[0]}), an environment variable ({@code ..._AUDIENCES_0}).
     */
    @Test
    void theJwtAudienceGuardSeesAnAudienceInEveryFormSpringBindsAList() {
        String key = "spring.security.oauth2.resourceserver.jwt.audiences";
        for (PropertySource<?> audience : List.of(
                new MapPropertySource("properties", Map.of(key, "execgate")),
                new MapPropertySource("yaml", Map.of(key + "[0]", "execgate", key + "[1]", "execgate-console")),
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_AUDIENCES_0", "execgate")))) {
            assertThat(jwtAuthentication(audience)).as("audience from %s", audience.getName()).isNotNull();
        }
        for (PropertySource<?> none : List.of(new MapPropertySource("nothing", Map.of()),
                new MapPropertySource("blank", Map.of(key, " ")), new MapPropertySource("blanks", Map.of(key + "[0]", "")))) {
            assertThatExceptionOfType(IllegalStateException.class).as("no audience in %s", none.getName())
                    .isThrownBy(() -> jwtAuthentication(none)).withMessageContaining(key);
        }
    }

    /** The bean that the guard is in, with a JWT decoder configured and the given properties. */
    private static Object jwtAuthentication(PropertySource<?> properties) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(properties);
        JwtDecoder decoder = token -> {
            throw new JwtException("never asked to decode here");
        };
        return new SecurityConfiguration().bearerAuthentication(new StaticTokenAuthenticationProvider(
                        StaticTokens.of(List.of(), List.of(), List.of())),
                new StaticListableBeanFactory(Map.of("jwtDecoder", decoder)).getBeanProvider(JwtDecoder.class),
                new SecurityProperties(List.of(), null, List.of(), "roles", org.springframework.util.unit.DataSize.ofMegabytes(4)),
                environment);
    }

    private static MockHttpServletRequest upgrade(String protocols) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/api/v1/host/exec");
        request.addHeader("Upgrade", "websocket");
        request.addHeader("Sec-WebSocket-Protocol", protocols);
        return request;
    }

    private static String encode(String token) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    }
}
