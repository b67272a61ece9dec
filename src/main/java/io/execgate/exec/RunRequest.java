package io.execgate.exec;

import java.util.List;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/** {@code POST .../execs/run}: an exec request plus its input and output limits. */
@Schema(description = "What to run to completion; the fields of an exec request plus input and maxOutputBytes.",
        example = "{\"command\": [\"sh\", \"-c\", \"tr a-z A-Z; exit 3\"], \"input\": \"hello\\n\", \"timeoutSeconds\": 60}")
public record RunRequest(
        @ArraySchema(arraySchema = @Schema(description = "The argv; the first entry names the executable.",
                example = "[\"sh\", \"-c\", \"echo hi; exit 3\"]"), minItems = 1, maxItems = 4096)
        @NotNull @Size(min = 1, max = 4096)
        List<@NotNull @Pattern(regexp = Validation.TEXT, message = Validation.TEXT_MESSAGE) String> command,

        @ArraySchema(arraySchema = @Schema(description = "Environment entries KEY=VALUE.", example = "[\"FOO=bar\"]"),
                maxItems = 4096)
        @Size(max = 4096)
        @Nullable List<@NotNull @Pattern(regexp = Validation.ENV_ENTRY, message = Validation.ENV_MESSAGE) String> env,

        @Schema(description = "Working directory; absolute.", example = "/")
        @Pattern(regexp = Validation.NON_EMPTY_TEXT, message = Validation.NON_EMPTY_TEXT_MESSAGE)
        @Nullable String workingDir,

        @Schema(description = "uid[:gid] or name[:group] to run as.", example = "1000:1000")
        @Pattern(regexp = Validation.NON_EMPTY_TEXT, message = Validation.NON_EMPTY_TEXT_MESSAGE)
        @Nullable String user,

        @Schema(description = "Run on a terminal (stderr is merged into stdout).", defaultValue = "false")
        @Nullable Boolean tty,

        @Schema(description = "Give the process a stdin pipe even without input (it is closed at once).",
                defaultValue = "false")
        @Nullable Boolean stdin,

        @Schema(description = "The terminal's first size, with tty.")
        @Valid @Nullable TerminalSize consoleSize,

        @Schema(description = "Terminate the process when it runs longer; the answer is still 200, with reason "
                + "timeout. 0 means no limit.", defaultValue = "0", example = "10")
        @PositiveOrZero @Max(Validation.MAX_TIMEOUT_SECONDS) @Nullable Integer timeoutSeconds,

        @Schema(description = "UTF-8 text written to stdin, which is then closed.", example = "hello\n")
        @Pattern(regexp = "\\P{Cs}*", message = "must not contain unpaired surrogates") @Nullable String input,

        @Schema(description = "How many bytes of each stream to return; the rest is counted and dropped.",
                defaultValue = "1048576", maximum = "16777216")
        @PositiveOrZero @Max(Validation.MAX_RUN_OUTPUT_BYTES) @Nullable Integer maxOutputBytes,

        @Schema(description = "Not taken here: the output comes back in the answer. Only POST .../execs ties streams upstream.")
        @Nullable UpstreamIo io) {

    ExecOptions options() {
        UpstreamIo.refuseForRun(io);
        return new ExecOptions(command, env == null ? List.of() : env, workingDir, user, Boolean.TRUE.equals(tty),
                input != null || Boolean.TRUE.equals(stdin), consoleSize, timeoutSeconds == null ? 0 : timeoutSeconds);
    }

    int outputLimit() {
        return maxOutputBytes == null ? Validation.DEFAULT_RUN_OUTPUT_BYTES : maxOutputBytes;
    }
}
