package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;

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

    @Test
    void jwtRolesComeFromAListOrAStringAndUnknownOnesAreIgnored() {
        assertThat(SecurityConfiguration.roles(List.of("admin", "kube-admin", "Admin", "OPERATOR"))).extracting(a -> a.getAuthority())
                .as("exact names only").containsExactly("ROLE_ADMIN");
        assertThat(SecurityConfiguration.roles("viewer operator")).extracting(a -> a.getAuthority())
                .containsExactly("ROLE_VIEWER", "ROLE_OPERATOR");
        assertThat(SecurityConfiguration.roles(null)).isEmpty();
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
