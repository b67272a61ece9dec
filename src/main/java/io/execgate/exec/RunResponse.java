package io.execgate.exec;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** {@code POST .../execs/run}: the ended exec and what it wrote. */
@Schema(name = "RunResult", description = "The ended exec, its exit code and its output.")
public record RunResponse(
        ExecView exec,
        @Schema(description = "The exit code; 128+n when signal n ended the process.", example = "3")
        @Nullable Integer exitCode,
        @Schema(implementation = String.class, description = "Stdout, as UTF-8 text or base64 (see encoding).",
                example = "hi\n") RunOutput stdout,
        @Schema(implementation = String.class, description = "Stderr, as UTF-8 text or base64 (see encoding).",
                example = "") RunOutput stderr,
        @Schema(description = "True when stdout had more than maxOutputBytes (or than execgate.exec.running-output-limit left room for).") boolean stdoutTruncated,
        @Schema(description = "True when stderr had more than maxOutputBytes (or than execgate.exec.running-output-limit left room for).") boolean stderrTruncated,
        @Schema(description = "utf-8, or base64 when either stream is not valid UTF-8.", allowableValues = {"utf-8", "base64"})
        String encoding) {

    /** The answer of an ended exec; its output is read from the exec's buffers as the answer is written. */
    static RunResponse of(Exec exec) {
        ExecView view = ExecView.of(exec);
        boolean outTruncated = exec.stdout().dropped() > 0;
        boolean errTruncated = exec.stderr().dropped() > 0;
        // A cut can split a character; drop such a broken tail rather than call the whole output binary.
        RunOutput out = RunOutput.of(exec.stdout(), outTruncated);
        RunOutput err = RunOutput.of(exec.stderr(), errTruncated);
        boolean text = out.isUtf8() && err.isUtf8();
        return new RunResponse(view, view.exitCode(), text ? out : out.asBase64(), text ? err : err.asBase64(),
                outTruncated, errTruncated, text ? "utf-8" : "base64");
    }
}
