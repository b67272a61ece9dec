package io.execgate.exec;

import io.execgate.api.ApiException;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The {@code io} member of api.md's exec request: where an exec's streams go instead of its buffers (FIFOs,
 * named pipes, {@code binary://} logging drivers). Accepted in the request shape; this version cannot tie
 * streams upstream yet, so any path is refused rather than silently ignored.
 */
@Schema(name = "UpstreamIo", description = "Upstream IO: not available in this version; only null members are "
        + "accepted (a path is refused with 400).")
public record UpstreamIo(@Nullable String stdin, @Nullable String stdout, @Nullable String stderr,
        @Nullable Integer retryTimeoutSeconds) {

    /** Refuses an {@code io} that asks for anything. */
    static void refuseIfRequested(@Nullable UpstreamIo io) {
        if (io != null && (io.stdin != null || io.stdout != null || io.stderr != null || io.retryTimeoutSeconds != null)) {
            throw ApiException.invalid("io", "upstream IO (pipes, logging drivers) is not available in this version of "
                    + "execgate; leave io out");
        }
    }
}
