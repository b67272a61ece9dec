package io.execgate.exec;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** {@code POST .../execs/run}: the ended exec and what it wrote. */
@Schema(name = "RunResult", description = "The ended exec, its exit code and its output.")
public record RunResponse(
        ExecView exec,
        @Schema(description = "The exit code; 128+n when signal n ended the process.", example = "3")
        @Nullable Integer exitCode,
        @Schema(description = "Stdout, as UTF-8 text or base64 (see encoding).", example = "hi\n") String stdout,
        @Schema(description = "Stderr, as UTF-8 text or base64 (see encoding).", example = "") String stderr,
        @Schema(description = "True when stdout had more than maxOutputBytes (or than execgate.exec.running-output-limit left room for).") boolean stdoutTruncated,
        @Schema(description = "True when stderr had more than maxOutputBytes (or than execgate.exec.running-output-limit left room for).") boolean stderrTruncated,
        @Schema(description = "utf-8, or base64 when either stream is not valid UTF-8.", allowableValues = {"utf-8", "base64"})
        String encoding) {

    static RunResponse of(Exec exec) {
        ExecView view = ExecView.of(exec);
        byte[] out = exec.stdout().snapshot();
        byte[] err = exec.stderr().snapshot();
        boolean outTruncated = exec.stdout().dropped() > 0;
        boolean errTruncated = exec.stderr().dropped() > 0;
        // A cut can split a character; drop such a broken tail rather than call the whole output binary.
        out = outTruncated ? Utf8.trimIncompleteTail(out) : out;
        err = errTruncated ? Utf8.trimIncompleteTail(err) : err;
        boolean text = Utf8.isValid(out) && Utf8.isValid(err);
        return new RunResponse(view, view.exitCode(), Utf8.encode(out, text), Utf8.encode(err, text),
                outTruncated, errTruncated, text ? "utf-8" : "base64");
    }
}
