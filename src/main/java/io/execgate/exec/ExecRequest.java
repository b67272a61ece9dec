package io.execgate.exec;

import java.util.List;

import io.execgate.api.ApiException;
import io.execgate.upstream.UpstreamPlan;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/** {@code POST .../execs}: what to run. Unknown fields are rejected. */
@Schema(description = "What to run: an argv array, never a shell string.",
        example = "{\"command\": [\"sh\", \"-c\", \"echo hi\"], \"env\": [\"FOO=bar\"], \"timeoutSeconds\": 60}")
public record ExecRequest(
        @ArraySchema(arraySchema = @Schema(description = "The argv; the first entry names the executable, looked up "
                + "in the exec's PATH when it has no slash.", example = "[\"sh\", \"-c\", \"echo hi\"]"),
                minItems = 1, maxItems = 4096)
        @NotNull @Size(min = 1, max = 4096)
        List<@NotNull @Pattern(regexp = Validation.TEXT, message = Validation.TEXT_MESSAGE) String> command,

        @ArraySchema(arraySchema = @Schema(description = "Environment entries KEY=VALUE, added to the target's "
                + "base environment.", example = "[\"FOO=bar\"]"), maxItems = 4096)
        @Size(max = 4096)
        @Nullable List<@NotNull @Pattern(regexp = Validation.ENV_ENTRY, message = Validation.ENV_MESSAGE) String> env,

        @Schema(description = "Working directory; absolute. Defaults to the target's (\"/\" on the host).", example = "/")
        @Pattern(regexp = Validation.NON_EMPTY_TEXT, message = Validation.NON_EMPTY_TEXT_MESSAGE)
        @Nullable String workingDir,

        @Schema(description = "uid[:gid] or name[:group] to run as; the host backend needs the service to run as root "
                + "to switch.", example = "1000:1000")
        @Pattern(regexp = Validation.NON_EMPTY_TEXT, message = Validation.NON_EMPTY_TEXT_MESSAGE)
        @Nullable String user,

        @Schema(description = "Run on a terminal (stderr is merged into stdout).", defaultValue = "false")
        @Nullable Boolean tty,

        @Schema(description = "Open a stdin pipe for attachments or close-stdin; otherwise stdin reads end-of-file.",
                defaultValue = "false")
        @Nullable Boolean stdin,

        @Schema(description = "The terminal's first size, with tty.")
        @Valid @Nullable TerminalSize consoleSize,

        @Schema(description = "Terminate the process (SIGTERM, then SIGKILL after the grace period) when it runs "
                + "longer; 0 means no limit.", defaultValue = "0", example = "0")
        @PositiveOrZero @Max(Validation.MAX_TIMEOUT_SECONDS) @Nullable Integer timeoutSeconds,

        @Schema(description = "Upstream IO: the streams go to pipes or a logging driver instead of the buffers and "
                + "attachments.")
        @Valid @Nullable UpstreamIo io) {

    ExecOptions options() {
        boolean withTty = Boolean.TRUE.equals(tty);
        UpstreamPlan plan = UpstreamIo.plan(io, withTty);
        if (plan != null && plan.tiesStdin() && Boolean.TRUE.equals(stdin)) {
            throw ApiException.invalid("stdin", "stdin comes from io.stdin; attachments cannot write it too");
        }
        return new ExecOptions(command, env == null ? List.of() : env, workingDir, user, withTty,
                Boolean.TRUE.equals(stdin), consoleSize, timeoutSeconds == null ? 0 : timeoutSeconds, true, true, plan);
    }
}
