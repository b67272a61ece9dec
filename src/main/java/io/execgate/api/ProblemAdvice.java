package io.execgate.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.MessageSourceResolvable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.PropertyBindingException;

/**
 * Turns every error into an {@code application/problem+json} document with a stable {@code code}: the API's
 * own {@link ApiException}s, request binding and validation failures (as {@code INVALID_REQUEST} with the
 * fields at fault), and whatever the framework rejects by itself (unknown path, wrong method, media type). A 401 or
 * 403 it answers is told to the {@link AccessDenialObserver}s, as the security layer tells its own.
 */
@RestControllerAdvice
class ProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    /** The most of a framework's refusal of a UVM boot the audit trail repeats. */
    private static final int AUDITED_DETAIL = 200;

    private final ObjectProvider<AccessDenialObserver> denials;
    private final ObjectProvider<UvmActionObserver> uvmActions;

    /** The observers are the security layer's, absent in a slice test without it. */
    ProblemAdvice(ObjectProvider<AccessDenialObserver> denials, ObjectProvider<UvmActionObserver> uvmActions) {
        this.denials = denials;
        this.uvmActions = uvmActions;
    }

    @ExceptionHandler(ApiException.class)
    @Nullable ResponseEntity<Object> handleApi(ApiException e, NativeWebRequest request) {
        if (answerBegan(e, request)) {
            return null;
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(e.code().status(), e.getMessage());
        e.properties().forEach(problem::setProperty);
        return decorate(problem, e.code(), e.headers(), request, true);
    }

    @ExceptionHandler(Exception.class)
    @Nullable ResponseEntity<Object> handleUnexpected(Exception e, NativeWebRequest request) {
        log.error("Unexpected error on {}", describe(request), e);
        if (answerBegan(e, request)) {
            return null;
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(ErrorCode.INTERNAL_ERROR.status(),
                "the service failed unexpectedly; its log has the details");
        return decorate(problem, ErrorCode.INTERNAL_ERROR, new HttpHeaders(), request, true);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<FieldProblem> errors = new ArrayList<>();
        for (FieldError error : e.getBindingResult().getFieldErrors()) {
            errors.add(new FieldProblem(error.getField(), message(error)));
        }
        e.getBindingResult().getGlobalErrors().forEach(g -> errors.add(new FieldProblem(g.getObjectName(), message(g))));
        return invalid(errors, headers, request);
    }

    @Override
    protected ResponseEntity<Object> handleHandlerMethodValidationException(HandlerMethodValidationException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<FieldProblem> errors = new ArrayList<>();
        e.getParameterValidationResults().forEach(result -> {
            String name = result.getMethodParameter().getParameterName();
            result.getResolvableErrors().forEach(error -> errors.add(new FieldProblem(
                    error instanceof FieldError field ? field.getField() : String.valueOf(name), message(error))));
        });
        return invalid(errors, headers, request);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        Throwable cause = e.getMostSpecificCause();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RequestBodyLimit.TooLarge tooLarge) {
                return problem(ErrorCode.REQUEST_TOO_LARGE, tooLarge.getMessage(), headers, request);
            }
        }
        if (cause instanceof PropertyBindingException unknown) {
            return invalid(List.of(new FieldProblem(path(unknown, unknown.getPropertyName()), "unknown field")),
                    headers, request);
        }
        if (cause instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            String expected = mismatch.getTargetType() == null ? "a value of another type" : jsonType(mismatch.getTargetType());
            return invalid(List.of(new FieldProblem(path(mismatch, null), "must be " + expected)), headers, request);
        }
        if (cause instanceof InputCoercionException outOfRange && outOfRange.processor() instanceof JsonParser parser
                && !parser.streamReadContext().inRoot()) {
            // A number too large for its member: no mapping error, so no path of Jackson's; the parser knows where.
            String type = outOfRange.getTargetType() == null ? "the member" : outOfRange.getTargetType().getSimpleName();
            return invalid(List.of(new FieldProblem(path(parser.streamReadContext()), "is out of range for " + type
                    + ": " + firstLine(outOfRange.getOriginalMessage()).replaceAll("\\s*at \\[Source.*$", ""))),
                    headers, request);
        }
        if (cause instanceof StreamReadException malformed) {
            var at = malformed.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            // Jackson appends where in the source it was; we already said so, and its "[Source: ...]" says nothing.
            String what = firstLine(malformed.getOriginalMessage()).replaceAll("\\s*\\(for .*$", "")
                    .replaceAll("\\s*at \\[Source.*$", "");
            return problem(ErrorCode.INVALID_REQUEST, "malformed JSON" + where + ": " + what, headers, request);
        }
        String detail = cause instanceof JacksonException json ? firstLine(json.getOriginalMessage())
                : "the request body is missing or cannot be read";
        return problem(ErrorCode.INVALID_REQUEST, detail, headers, request);
    }

    @Override
    protected ResponseEntity<Object> handleTypeMismatch(org.springframework.beans.TypeMismatchException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        String name = e instanceof MethodArgumentTypeMismatchException m ? m.getName() : String.valueOf(e.getPropertyName());
        String expected = e.getRequiredType() == null ? "another type" : jsonType(e.getRequiredType());
        return invalid(List.of(new FieldProblem(name, "must be " + expected)), headers, request);
    }

    /** Every framework-made problem (404 for unknown paths, 405, 415, ...) gets its code, type and instance too. */
    @Override
    protected @Nullable ResponseEntity<Object> handleExceptionInternal(Exception e, @Nullable Object body,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        if (answerBegan(e, request)) {
            return null;
        }
        ProblemDetail problem = body instanceof ProblemDetail p ? p
                : ProblemDetail.forStatusAndDetail(status, e.getMessage() == null ? status.toString() : e.getMessage());
        ErrorCode code = problem.getProperties() != null && problem.getProperties().get("code") instanceof String c
                ? ErrorCode.valueOf(c) : ErrorCode.forStatus(status.value());
        return decorate(problem, code, headers, request);
    }

    private ResponseEntity<Object> invalid(List<FieldProblem> errors, HttpHeaders headers, WebRequest request) {
        String detail = errors.stream().map(p -> p.field() + ": " + p.message()).reduce((a, b) -> a + "; " + b)
                .orElse("the request is not valid");
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(ErrorCode.INVALID_REQUEST.status(), detail);
        problem.setProperty("errors", errors);
        return decorate(problem, ErrorCode.INVALID_REQUEST, headers, request);
    }

    private ResponseEntity<Object> problem(ErrorCode code, String detail, HttpHeaders headers, WebRequest request) {
        return decorate(ProblemDetail.forStatusAndDetail(code.status(), detail), code, headers, request);
    }

    private ResponseEntity<Object> decorate(ProblemDetail problem, ErrorCode code, HttpHeaders headers,
            WebRequest request) {
        return decorate(problem, code, headers, request, false);
    }

    /**
     * @param fromHandler whether a handler threw it (its own refusals, which a UVM boot audits itself), rather than
     *                    the framework before any handler ran (a body that is not JSON, or not the request's)
     */
    private ResponseEntity<Object> decorate(ProblemDetail problem, ErrorCode code, HttpHeaders headers,
            WebRequest request, boolean fromHandler) {
        String instance = request instanceof ServletWebRequest servlet ? servlet.getRequest().getRequestURI() : "/";
        Problems.decorate(problem, code, instance);
        int status = problem.getStatus();
        if ((status == 401 || status == 403) && request instanceof ServletWebRequest servlet) {
            denials.forEach(observer -> observer.denied(servlet.getRequest(), status));
        }
        if (!fromHandler && status >= 400 && status < 500 && request instanceof ServletWebRequest servlet
                && UvmController.isBoot(servlet.getRequest())) {
            // Every boot asked is audited, one refused before the controller could read it too: with no id (the
            // body gave none that could be trusted), and the framework's detail cut short (it may quote the body).
            String detail = problem.getDetail() == null || problem.getDetail().length() <= AUDITED_DETAIL
                    ? problem.getDetail() : problem.getDetail().substring(0, AUDITED_DETAIL) + "...";
            uvmActions.forEach(observer -> observer.uvmAction(servlet.getRequest(), "uvm.create", null, status, detail));
        }
        // Errors are problem+json whatever the request accepts: a 404 must not turn into a 406.
        return ResponseEntity.status(problem.getStatus()).headers(headers).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }

    /**
     * Whether the 200 of the answer has gone out already (a run's keep-alive began it), so that a problem written
     * now would follow it as if it were the result. The answer is left as it is, unfinished JSON a client cannot
     * take for a result, as Spring leaves a committed answer.
     */
    private static boolean answerBegan(Exception e, WebRequest request) {
        HttpServletResponse response = request instanceof NativeWebRequest nativeRequest
                ? nativeRequest.getNativeResponse(HttpServletResponse.class) : null;
        if (response == null || !response.isCommitted()) {
            return false;
        }
        log.warn("{} failed after its answer began; the answer stays unfinished: {}", describe(request), e.toString());
        return true;
    }

    private static String describe(WebRequest request) {
        HttpServletRequest servlet = request instanceof NativeWebRequest nativeRequest
                ? nativeRequest.getNativeRequest(HttpServletRequest.class) : null;
        return servlet == null ? request.getDescription(false) : servlet.getMethod() + " " + servlet.getRequestURI();
    }

    private static String message(MessageSourceResolvable error) {
        return error.getDefaultMessage() == null ? "is not valid" : error.getDefaultMessage();
    }

    /** A JSON path such as {@code env[2]} or {@code consoleSize.width}. */
    private static String path(JacksonException e, @Nullable String leaf) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        if (path.isEmpty() && leaf != null) {
            return leaf;
        }
        return path.toString();
    }

    /** Where a parser stands, as {@link #path(JacksonException, String)} writes it: {@code consoleSize.width}, {@code command[2]}. */
    private static String path(TokenStreamContext context) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (TokenStreamContext at = context; at != null && !at.inRoot(); at = at.getParent()) {
            parts.addFirst(at.inArray() ? "[" + at.getCurrentIndex() + "]" : "." + at.currentName());
        }
        String joined = String.join("", parts);
        return joined.startsWith(".") ? joined.substring(1) : joined;
    }

    private static String jsonType(Class<?> type) {
        if (type == String.class || type.isEnum()) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (Number.class.isAssignableFrom(type) || (type.isPrimitive() && type != char.class)) {
            return "a number";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return "a " + type.getSimpleName();
    }

    private static String firstLine(@Nullable String message) {
        if (message == null) {
            return "unreadable input";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
