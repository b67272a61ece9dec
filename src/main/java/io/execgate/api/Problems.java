package io.execgate.api;

import java.net.URI;

import org.springframework.http.ProblemDetail;

/** Builds the problem documents of the API, for {@link ProblemAdvice} and for answers made outside MVC (handshakes). */
public final class Problems {

    private Problems() {
    }

    /** The problem document for an API error at a request path. */
    public static ProblemDetail of(ApiException error, String instance) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(error.code().status(), error.getMessage());
        error.properties().forEach(problem::setProperty);
        return decorate(problem, error.code(), instance);
    }

    /** Gives a problem the code's type, title and code, and the request path as its instance. */
    static ProblemDetail decorate(ProblemDetail problem, ErrorCode code, String instance) {
        problem.setType(URI.create(code.type()));
        problem.setTitle(code.title());
        problem.setProperty("code", code.name());
        problem.setInstance(URI.create(instance));
        return problem;
    }
}
