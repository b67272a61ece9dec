package io.execgate.api;

/** One rejected field of a request, in the {@code errors} list of an {@code INVALID_REQUEST} problem. */
public record FieldProblem(String field, String message) {
}
