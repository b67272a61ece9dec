package io.execgate.api;

import static io.swagger.v3.oas.annotations.media.Schema.RequiredMode.REQUIRED;

import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The shape of every error body (RFC 9457), for the OpenAPI document; the advice builds the real ones. The members
 * api.md promises in every error are required, so that typed clients need not treat them as optional, but for
 * {@code instance}, which a request path that is no valid URI reference cannot be.
 */
@Schema(name = "Problem", description = "An RFC 9457 problem document with a stable code.")
record ProblemSchema(
        @Schema(description = "A URN naming the code.", example = "urn:execgate:problem:exec-not-found",
                requiredMode = REQUIRED) String type,
        @Schema(example = "Exec not found", requiredMode = REQUIRED) String title,
        @Schema(example = "404", requiredMode = REQUIRED) int status,
        @Schema(example = "no exec has the id e_7Hq2kP0aXc9LmN3b", requiredMode = REQUIRED) String detail,
        @Schema(description = "The request path (absent when it is no valid URI reference).",
                example = "/api/v1/execs/e_7Hq2kP0aXc9LmN3b") String instance,
        @Schema(description = "The stable error code.", example = "EXEC_NOT_FOUND", requiredMode = REQUIRED)
        ErrorCode code,
        @Schema(description = "The rejected fields, with INVALID_REQUEST.") @Nullable List<FieldProblem> errors,
        @Schema(description = "The exec recorded as failed, with EXEC_START_FAILED.") @Nullable String execId) {
}
