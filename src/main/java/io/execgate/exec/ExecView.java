package io.execgate.exec;

import java.time.Instant;
import java.util.List;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** The exec resource. */
@Schema(name = "Exec", description = "One command's life: where it runs, its state, and how it ended.")
public record ExecView(
        @Schema(example = "e_7Hq2kP0aXc9LmN3b") String id,
        Target target,
        @Schema(example = "[\"sh\", \"-c\", \"echo hi\"]") List<String> command,
        boolean tty,
        boolean stdin,
        @Schema(example = "exited") ExecState state,
        @Schema(description = "Process id as the target sees it.", example = "4242") @Nullable Long pid,
        @Schema(description = "Null until the exec has ended; 128+n when signal n ended it.", example = "0")
        @Nullable Integer exitCode,
        @Schema(description = "The name of the signal that ended the process.", example = "SIGKILL") @Nullable String signal,
        @Schema(description = "Why the exec ended, once it has.", example = "exited") @Nullable ExitReason reason,
        @Schema(description = "What went wrong, for start-failed and lost.") @Nullable String error,
        Instant createdAt,
        @Nullable Instant startedAt,
        @Schema(description = "When the process exited (or the start failed).") @Nullable Instant exitedAt,
        @Schema(description = "Bytes the process wrote to stdout.") long stdoutBytes,
        @Schema(description = "Bytes the process wrote to stderr.") long stderrBytes,
        @Schema(description = "Stdout bytes not retained for GET .../output (the buffer keeps the newest).")
        long stdoutDroppedBytes,
        @Schema(description = "Stderr bytes not retained for GET .../output.") long stderrDroppedBytes,
        @Schema(description = "The pipes the streams are tied to (upstream IO); null when they are not. With "
                + "io.stdout \"listen\", the FIFOs to open.") @Nullable Io io,
        Links links) {

    /** Where an exec runs. */
    @Schema(name = "ExecTarget")
    public record Target(@Schema(example = "host") TargetKind kind, @Schema(example = "node-1") String id) {
    }

    /** The pipes of upstream IO; a member is null for a stream not tied. */
    @Schema(name = "ExecIo")
    public record Io(@Schema(example = "/var/lib/execgate/upstream/e_7Hq2kP0aXc9LmN3b/stdin") @Nullable String stdinPath,
            @Schema(example = "/var/lib/execgate/upstream/e_7Hq2kP0aXc9LmN3b/stdout") @Nullable String stdoutPath,
            @Schema(example = "/var/lib/execgate/upstream/e_7Hq2kP0aXc9LmN3b/stderr") @Nullable String stderrPath) {
    }

    /** Where to find the exec's parts. */
    @Schema(name = "ExecLinks")
    public record Links(String self, String exit, String output, String attach) {
    }

    private static @Nullable Io io(Exec exec) {
        var paths = exec.upstreamPaths();
        return paths == null ? null : new Io(paths.stdinPath(), paths.stdoutPath(), paths.stderrPath());
    }

    static ExecView of(Exec exec) {
        Exec.Snapshot now = exec.snapshot();
        ExitStatus exit = now.exit();
        TargetRef target = exec.target();
        String self = "/api/v1/execs/" + exec.id();
        return new ExecView(exec.id(), new Target(target.kind(), target.id()), exec.command(), exec.tty(), exec.stdin(),
                now.state(), now.pid(), exit == null ? null : exit.exitCode(), exit == null ? null : exit.signal(),
                exit == null ? null : exit.reason(), exit == null ? null : exit.error(), exec.createdAt(),
                now.startedAt(), exit == null ? null : exit.at(), exec.stdout().total(), exec.stderr().total(),
                exec.stdout().dropped(), exec.stderr().dropped(), io(exec),
                new Links(self, self + "/exit", self + "/output", self + "/attach"));
    }
}
