package io.execgate.exec;

import io.execgate.api.ApiException;
import io.execgate.upstream.UpstreamPlan;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.PositiveOrZero;
import org.jspecify.annotations.Nullable;

/**
 * The {@code io} member of the exec request: where an exec's streams go instead of its buffers, as hcsshim's
 * {@code UpstreamIO} does it (see {@link UpstreamPlan} for the rules).
 */
@Schema(name = "UpstreamIo", description = "Ties the streams to pipes the caller owns or to a logging driver instead "
        + "of the exec's buffers and attachments. One mode per exec: FIFO paths; binary:///path/to/driver?k=v in "
        + "stdout (the driver gets stdout and stderr); or \"listen\" in each stream execgate should make a FIFO for "
        + "(their paths come back in the exec resource's io, and the exec starts once a client opened them).",
        example = "{\"stdout\": \"/run/app/exec1-stdout\", \"stderr\": \"/run/app/exec1-stderr\", "
                + "\"retryTimeoutSeconds\": 30}")
public record UpstreamIo(
        @Schema(description = "A FIFO to read stdin from (end-of-file closes the process's stdin), or \"listen\".")
        @Nullable String stdin,
        @Schema(description = "A FIFO to write stdout to (reopened when its reader goes away), \"listen\", or "
                + "binary:///path/to/driver?key=value for a logging driver.")
        @Nullable String stdout,
        @Schema(description = "A FIFO to write stderr to, or \"listen\"; none with a tty.") @Nullable String stderr,
        @Schema(description = "How long to keep reopening a stdout or stderr FIFO whose reader went away; 0 (the "
                + "default) retries for ever.", example = "30")
        @PositiveOrZero @Max(Validation.MAX_TIMEOUT_SECONDS) @Nullable Integer retryTimeoutSeconds) {

    /** The plan for these members; a 400 naming the member at fault when they do not make one. */
    static @Nullable UpstreamPlan plan(@Nullable UpstreamIo io, boolean tty) {
        if (io == null) {
            return null;
        }
        try {
            return UpstreamPlan.parse(io.stdin, io.stdout, io.stderr, io.retryTimeoutSeconds, tty);
        } catch (UpstreamPlan.InvalidUpstream e) {
            throw ApiException.invalid(e.field(), e.getMessage());
        }
    }

    /** Run-to-completion answers with the output, so it cannot send it elsewhere. */
    static void refuseForRun(@Nullable UpstreamIo io) {
        if (io != null && (io.stdin != null || io.stdout != null || io.stderr != null || io.retryTimeoutSeconds != null)) {
            throw ApiException.invalid("io", "run-to-completion answers with the output; tie streams upstream with "
                    + "POST .../execs instead");
        }
    }
}
