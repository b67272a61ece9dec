package io.execgate.exec;

import java.time.Instant;
import java.util.List;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import org.jspecify.annotations.Nullable;

/**
 * Everything of an exec that outlives the service: the exec resource without its output, and who asked for it.
 * What an {@link ExecStore} keeps.
 *
 * @param endedAt when the exec ended (its status recorded, its output complete); null while it has not
 */
public record ExecRecord(String id, TargetKind targetKind, String targetId, List<String> command, boolean tty,
        boolean stdin, ExecState state, @Nullable Long pid, @Nullable Integer exitCode, @Nullable String signal,
        @Nullable ExitReason reason, @Nullable String error, Instant createdAt, @Nullable Instant startedAt,
        @Nullable Instant exitedAt, @Nullable Instant endedAt, long stdoutBytes, long stderrBytes,
        long stdoutDroppedBytes, long stderrDroppedBytes, @Nullable String stdinPath, @Nullable String stdoutPath,
        @Nullable String stderrPath, String principal, @Nullable String remoteAddress) {

    public ExecRecord {
        command = List.copyOf(command);
    }

    TargetRef target() {
        return new TargetRef(targetKind, targetId);
    }

    /** The exit status, or null while the exec has not ended. */
    @Nullable ExitStatus exit() {
        return reason == null ? null : new ExitStatus(exitCode, signal, reason,
                exitedAt != null ? exitedAt : createdAt, error);
    }

    boolean ended() {
        return state.ended();
    }

    /** This record as the service finds it after a restart it did not see the end of: its process's fate is unknown. */
    ExecRecord lost(Instant now) {
        return new ExecRecord(id, targetKind, targetId, command, tty, stdin, ExecState.UNKNOWN, pid, null, null,
                ExitReason.LOST, "execgate stopped while the exec ran; its exit status is unknown", createdAt,
                startedAt, now, now, stdoutBytes, stderrBytes, stdoutDroppedBytes, stderrDroppedBytes, stdinPath,
                stdoutPath, stderrPath, principal, remoteAddress);
    }
}
