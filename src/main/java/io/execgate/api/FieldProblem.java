package io.execgate.api;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

import jakarta.validation.ConstraintViolation;

/** One rejected field of a request, in the {@code errors} list of an {@code INVALID_REQUEST} problem. */
public record FieldProblem(String field, String message) {

    /** A validator's violations, by field. */
    public static List<FieldProblem> of(Collection<? extends ConstraintViolation<?>> violations) {
        return violations.stream().map(v -> new FieldProblem(v.getPropertyPath().toString(), v.getMessage()))
                .sorted(Comparator.comparing(FieldProblem::field)).toList();
    }
}
