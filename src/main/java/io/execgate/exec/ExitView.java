package io.execgate.exec;

import java.time.Instant;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** {@code GET .../exit}: whether the exec has ended, and how. */
@Schema(name = "Exit", description = "Whether the exec has ended and how; the other fields are null while exited is false.")
public record ExitView(
        @Schema(description = "True once the exec has ended (exited, failed to start, or was lost).") boolean exited,
        @Schema(example = "0") @Nullable Integer exitCode,
        @Schema(example = "SIGKILL") @Nullable String signal,
        @Schema(example = "exited") @Nullable ExitReason reason,
        @Schema(description = "What went wrong, for start-failed and lost.") @Nullable String error,
        @Nullable Instant exitedAt) {

    static final ExitView PENDING = new ExitView(false, null, null, null, null, null);

    static ExitView of(@Nullable ExitStatus exit) {
        return exit == null ? PENDING
                : new ExitView(true, exit.exitCode(), exit.signal(), exit.reason(), exit.error(), exit.at());
    }
}
