package io.execgate.security;

import java.io.IOException;
import java.util.List;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.WebUtils;

/**
 * Refuses a WebSocket handshake sent by a page of another origin (cross-site WebSocket hijacking) unless
 * {@code execgate.security.allowed-origins} lists it: a 403 problem document and an {@code access.denied} audit
 * line, before anything runs. Spring's own origin check behind it answers with a bare 403 and tells no one.
 */
final class WebSocketOriginFilter extends OncePerRequestFilter {

    private final CorsConfiguration allowed = new CorsConfiguration();
    private final ProblemSecurityHandlers problems;

    WebSocketOriginFilter(List<String> allowedOrigins, ProblemSecurityHandlers problems) {
        this.allowed.setAllowedOriginPatterns(allowedOrigins);
        this.problems = problems;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String origin = request.getHeader("Origin");
        if (origin != null && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"))
                && !WebUtils.isSameOrigin(new ServletServerHttpRequest(request)) && allowed.checkOrigin(origin) == null) {
            problems.refuse(request, response, new ApiException(ErrorCode.FORBIDDEN, "a page from " + origin
                    + " may not open execgate's streams (execgate.security.allowed-origins lists the origins that may)"));
            return;
        }
        chain.doFilter(request, response);
    }
}
