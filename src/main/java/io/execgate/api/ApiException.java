package io.execgate.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.execgate.host.AmbiguousTargetException;
import org.springframework.http.HttpHeaders;

/** An error the API reports as a problem document with a stable {@link ErrorCode}. */
public class ApiException extends RuntimeException {

    private final ErrorCode code;
    private final Map<String, Object> properties;
    private final HttpHeaders headers;

    public ApiException(ErrorCode code, String detail) {
        this(code, detail, Map.of(), new HttpHeaders());
    }

    private ApiException(ErrorCode code, String detail, Map<String, Object> properties, HttpHeaders headers) {
        super(detail);
        this.code = code;
        this.properties = Map.copyOf(properties);
        this.headers = headers;
    }

    /** A 400 naming the fields at fault. */
    public static ApiException invalid(String detail, List<FieldProblem> errors) {
        return new ApiException(ErrorCode.INVALID_REQUEST, detail, Map.of("errors", List.copyOf(errors)), new HttpHeaders());
    }

    /** A 400 for one field. */
    public static ApiException invalid(String field, String message) {
        return invalid(field + ": " + message, List.of(new FieldProblem(field, message)));
    }

    /** A 409 for an id that names several targets, with the ids that name each alone. */
    public static ApiException ambiguous(AmbiguousTargetException e) {
        return new ApiException(ErrorCode.CONFLICT, e.getMessage()).with("ids", e.qualifiedIds());
    }

    /** The same error with an extra member in the problem document. */
    public ApiException with(String property, Object value) {
        Map<String, Object> more = new LinkedHashMap<>(properties);
        more.put(property, value);
        return new ApiException(code, getMessage(), more, headers);
    }

    /** The same error with a response header, e.g. {@code Retry-After}. */
    public ApiException withHeader(String name, String value) {
        HttpHeaders more = new HttpHeaders();
        more.addAll(headers);
        more.set(name, value);
        return new ApiException(code, getMessage(), properties, more);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> properties() {
        return properties;
    }

    public HttpHeaders headers() {
        return headers;
    }
}
