package io.execgate.security;

import java.io.IOException;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.api.Problems;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import tools.jackson.databind.json.JsonMapper;

/** 401 and 403 as problem documents with the codes {@code UNAUTHORIZED} and {@code FORBIDDEN}. */
final class ProblemSecurityHandlers implements AuthenticationEntryPoint, AccessDeniedHandler {

    private final JsonMapper json;
    private final ExecAuditLog audit;

    ProblemSecurityHandlers(JsonMapper json, ExecAuditLog audit) {
        this.json = json;
        this.audit = audit;
    }

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException failure)
            throws IOException {
        boolean presented = failure instanceof OAuth2AuthenticationException;
        // RFC 6750: say how to authenticate, and whether the token presented was the problem.
        response.setHeader("WWW-Authenticate", presented ? "Bearer error=\"invalid_token\"" : "Bearer");
        write(request, response, new ApiException(ErrorCode.UNAUTHORIZED, presented
                ? "the bearer token is not valid"
                : "a bearer token is needed (Authorization: Bearer <token>, or on a WebSocket handshake the subprotocol "
                        + BearerTokens.SUBPROTOCOL_PREFIX + "<base64url token>)"));
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException denied)
            throws IOException {
        write(request, response, new ApiException(ErrorCode.FORBIDDEN,
                "your roles do not allow " + request.getMethod() + " " + request.getRequestURI()));
    }

    /** Answers with the problem, and audits the refusal. */
    void refuse(HttpServletRequest request, HttpServletResponse response, ApiException error) throws IOException {
        write(request, response, error);
    }

    private void write(HttpServletRequest request, HttpServletResponse response, ApiException error) throws IOException {
        audit.denied(request, error.code().status().value());
        Problems.write(response, error, request.getRequestURI(), json);
    }
}
