package io.execgate.api;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Told of every 401 and 403 that {@link ProblemAdvice} answers, so that a refusal made past the security filters
 * (the exec layer's, for upstream IO) is audited like the filters' own. The security layer's audit log is the one.
 */
@FunctionalInterface
public interface AccessDenialObserver {

    /** The request was answered with {@code status} (401 or 403), on the request's own thread. */
    void denied(HttpServletRequest request, int status);
}
