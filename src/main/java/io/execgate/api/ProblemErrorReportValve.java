package io.execgate.api;

import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's error page, for what Tomcat turns down before any servlet sees it (a URL with an encoded NUL or an
 * invalid escape, a header too large): a problem document like every other error, in place of an HTML page.
 * Server errors say no more than their status; their cause is in the log.
 */
public final class ProblemErrorReportValve extends ErrorReportValve {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    protected void report(Request request, Response response, Throwable failure) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean writable = new AtomicBoolean();
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, writable);
        if (!writable.get()) {
            return; // the connection is broken: there is no one to tell
        }
        ProblemDetail problem = Problems.containerError(status, response.getMessage(),
                Objects.requireNonNullElse(request.getRequestURI(), "/")); // as sent: it may not decode
        // Written by hand: this valve is Tomcat's, outside Spring, and so is without the mapper that flattens
        // ProblemDetail's properties.
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("type", String.valueOf(problem.getType()));
        document.put("title", problem.getTitle());
        document.put("status", status);
        document.put("detail", problem.getDetail());
        if (problem.getInstance() != null) {
            document.put("instance", problem.getInstance().toString());
        }
        document.put("code", problem.getProperties().get("code"));
        try {
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            response.setCharacterEncoding("UTF-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(JSON.writeValueAsString(document));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException gone) {
            // the client went while it was told: no one is left to tell
        }
    }
}
