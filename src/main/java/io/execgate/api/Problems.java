package io.execgate.api;

import java.io.IOException;
import java.net.URI;
import java.util.Locale;

import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import tools.jackson.databind.json.JsonMapper;

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

    /** Writes the problem document for an error as the whole response (for filters and handshakes, outside MVC). */
    public static void write(HttpServletResponse response, ApiException error, String instance, JsonMapper json)
            throws IOException {
        response.setStatus(error.code().status().value());
        error.headers().forEach((name, values) -> values.forEach(value -> response.addHeader(name, value)));
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getOutputStream().write(json.writeValueAsBytes(of(error, instance)));
    }

    /**
     * The problem for an error the servlet container reports (to {@code /error}, or on Tomcat's error page): its
     * message as the detail for a client error; for a server error only what the status says, the cause being in
     * the log.
     */
    static ProblemDetail containerError(int status, @Nullable String message, String instance) {
        ErrorCode code = ErrorCode.forStatus(status);
        String detail = status < 500 && message != null && !message.isBlank() ? message
                : code.status().value() == status ? code.title().toLowerCase(Locale.ROOT) : "status " + status;
        return decorate(ProblemDetail.forStatusAndDetail(HttpStatusCode.valueOf(status), detail), code, instance);
    }

    /** Gives a problem the code's type, title and code, and the request path as its instance. */
    static ProblemDetail decorate(ProblemDetail problem, ErrorCode code, String instance) {
        problem.setType(URI.create(code.type()));
        problem.setTitle(code.title());
        problem.setProperty("code", code.name());
        try {
            problem.setInstance(URI.create(instance));
        } catch (IllegalArgumentException notAUri) {
            // a path the container let through but a URI cannot hold: the problem goes without its instance
        }
        return problem;
    }
}
