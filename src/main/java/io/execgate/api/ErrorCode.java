package io.execgate.api;

import java.util.Locale;

import org.springframework.http.HttpStatus;

/** The stable {@code code} of every problem document, with its status and title. */
public enum ErrorCode {
    INVALID_REQUEST(HttpStatus.BAD_REQUEST, "Invalid request"),
    UNAUTHORIZED(HttpStatus.UNAUTHORIZED, "Unauthorized"),
    FORBIDDEN(HttpStatus.FORBIDDEN, "Forbidden"),
    TARGET_NOT_FOUND(HttpStatus.NOT_FOUND, "Target not found"),
    EXEC_NOT_FOUND(HttpStatus.NOT_FOUND, "Exec not found"),
    NOT_FOUND(HttpStatus.NOT_FOUND, "Not found"),
    METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed"),
    NOT_ACCEPTABLE(HttpStatus.NOT_ACCEPTABLE, "Not acceptable"),
    EXEC_NOT_RUNNING(HttpStatus.CONFLICT, "Exec not running"),
    NOT_A_TTY(HttpStatus.CONFLICT, "Exec has no terminal"),
    CONFLICT(HttpStatus.CONFLICT, "Conflict"),
    REQUEST_TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "Request too large"),
    UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    EXEC_START_FAILED(HttpStatus.UNPROCESSABLE_CONTENT, "Exec start failed"),
    TOO_MANY_EXECS(HttpStatus.TOO_MANY_REQUESTS, "Too many execs"),
    TOO_MANY_SESSIONS(HttpStatus.TOO_MANY_REQUESTS, "Too many sessions"),
    INTERNAL_ERROR(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error"),
    BACKEND_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "Backend unavailable");

    private final HttpStatus status;
    private final String title;

    ErrorCode(HttpStatus status, String title) {
        this.status = status;
        this.title = title;
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** The problem {@code type}: a URN naming the code, stable across versions. */
    public String type() {
        return "urn:execgate:problem:" + name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The code for a status the framework chose (404 for an unknown path, 405, 415, ...). */
    static ErrorCode forStatus(int status) {
        return switch (status) {
            case 400 -> INVALID_REQUEST;
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 409 -> CONFLICT;
            case 413 -> REQUEST_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 429 -> TOO_MANY_EXECS;
            case 503 -> BACKEND_UNAVAILABLE;
            default -> status >= 500 ? INTERNAL_ERROR : INVALID_REQUEST;
        };
    }
}
