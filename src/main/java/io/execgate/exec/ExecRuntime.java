package io.execgate.exec;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every {@link Exec} shares: the timer thread (timeouts, kill grace, copy-after-exit), the clock, and
 * the two durations of the {@code Cmd} semantics.
 *
 * @param copyAfterExitTimeout how long relays may drain after the process exits; zero waits for ever
 * @param killGracePeriod      how long a terminated process has before SIGKILL
 */
record ExecRuntime(ScheduledExecutorService scheduler, Clock clock, Duration copyAfterExitTimeout,
        Duration killGracePeriod) {
}
