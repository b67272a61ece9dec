package io.execgate.host;

import java.time.Instant;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * How a process ended.
 *
 * @param exitCode the exit code; {@code 128 + n} when signal n ended it, as shells report it; null when unknowable
 * @param signal   the name of the signal that ended it, or null
 * @param reason   why it ended
 * @param at       when it ended
 * @param error    what went wrong, for {@link ExitReason#START_FAILED} and {@link ExitReason#LOST}
 */
public record ExitStatus(@Nullable Integer exitCode, @Nullable String signal, ExitReason reason, Instant at,
        @Nullable String error) {

    public ExitStatus {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(at, "at");
    }

    public static ExitStatus exited(int code, Instant at) {
        return new ExitStatus(code, null, ExitReason.EXITED, at, null);
    }

    public static ExitStatus signaled(Signal signal, Instant at) {
        return new ExitStatus(128 + signal.number(), signal.name(), ExitReason.KILLED, at, null);
    }

    public static ExitStatus lost(String why, Instant at) {
        return new ExitStatus(null, null, ExitReason.LOST, at, why);
    }

    /** The same outcome with another reason, e.g. {@link ExitReason#TIMEOUT} for a process the exec terminated. */
    public ExitStatus withReason(ExitReason newReason) {
        return new ExitStatus(exitCode, signal, newReason, at, error);
    }
}
