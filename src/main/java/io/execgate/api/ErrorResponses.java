package io.execgate.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The problem codes an operation can answer with. {@link OpenApiConfiguration} turns them into documented
 * {@code application/problem+json} responses, so the document and the code name the same errors.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface ErrorResponses {
    ErrorCode[] value();
}
