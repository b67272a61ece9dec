package io.execgate.exec;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every {@link Exec} shares: the timer thread (timeouts, kill grace, copy-after-exit), the clock, the two
 * durations of the {@code Cmd} semantics, and the limit on what output relays hold.
 *
 * @param copyAfterExitTimeout how long relays may drain after the process exits; zero waits for ever
 * @param killGracePeriod      how long a terminated process has before SIGKILL
 * @param relayBuffers         the chunks output relays grow into, within {@code execgate.exec.relay-buffer-limit}
 */
record ExecRuntime(ScheduledExecutorService scheduler, Clock clock, Duration copyAfterExitTimeout,
        Duration killGracePeriod, RelayBuffers relayBuffers) {

    /** With the default relay-buffer limit, for tests of the exec life. */
    ExecRuntime(ScheduledExecutorService scheduler, Clock clock, Duration copyAfterExitTimeout, Duration killGracePeriod) {
        this(scheduler, clock, copyAfterExitTimeout, killGracePeriod, new RelayBuffers(32L << 20));
    }
}
