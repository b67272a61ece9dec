package io.execgate.security;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collections;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.resource.BearerTokenError;
import org.springframework.security.oauth2.server.resource.BearerTokenErrors;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/**
 * Where a request's bearer token is: the {@code Authorization} header, or, on a WebSocket handshake (browsers
 * cannot set headers there), the subprotocol {@code base64url.bearer.authorization.k8s.io.<token>} as the
 * Kubernetes API server takes it. Never the query string, which ends up in logs. The subprotocol is never
 * chosen for the session, so the token is not echoed back.
 */
final class BearerTokens implements BearerTokenResolver {

    static final String SUBPROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io.";
    private static final Pattern STREAMS = Pattern.compile(
            "/api/v1/(execs/[^/]+/attach|host/exec|containers/[^/]+/exec|uvms/[^/]+/exec)");

    private final DefaultBearerTokenResolver header = new DefaultBearerTokenResolver();

    @Override
    public @Nullable String resolve(HttpServletRequest request) {
        String fromHeader = header.resolve(request);
        if (fromHeader != null || !isStreamHandshake(request)) {
            return fromHeader;
        }
        String token = null;
        for (String offered : Collections.list(request.getHeaders("Sec-WebSocket-Protocol"))) {
            for (String protocol : offered.split(",")) {
                String candidate = protocol.strip();
                if (candidate.startsWith(SUBPROTOCOL_PREFIX)) {
                    if (token != null) {
                        throw invalid("more than one bearer token among the subprotocols");
                    }
                    token = decode(candidate.substring(SUBPROTOCOL_PREFIX.length()));
                }
            }
        }
        return token;
    }

    /** Only a WebSocket handshake to a stream endpoint may carry its token as a subprotocol. */
    private static boolean isStreamHandshake(HttpServletRequest request) {
        return "GET".equals(request.getMethod()) && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"))
                && STREAMS.matcher(request.getRequestURI()).matches();
    }

    private static String decode(String encoded) {
        try {
            byte[] bytes = Base64.getUrlDecoder().decode(encoded);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            throw invalid("the subprotocol token is not base64url-encoded UTF-8");
        }
    }

    private static OAuth2AuthenticationException invalid(String why) {
        BearerTokenError error = BearerTokenErrors.invalidRequest(why);
        return new OAuth2AuthenticationException(error);
    }
}
