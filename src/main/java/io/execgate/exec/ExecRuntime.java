package io.execgate.exec;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.host.BlockingThreads;

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

    /**
     * Runs {@code task} after {@code delayNanos}, on a pooled platform thread rather than the timer's own: a task
     * that calls a backend (a SIGTERM, a SIGKILL, closing a process's streams) may block there (a wedged UVM agent
     * holds a send up to 15 s), and the one timer serves every exec's timeouts.
     */
    ScheduledFuture<?> schedule(String name, Runnable task, long delayNanos) {
        return scheduler.schedule(() -> offTimer(name, task), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} on a pooled platform thread; on this one when none can be had (it must still happen). */
    static void offTimer(String name, Runnable task) {
        try {
            BlockingThreads.start(name, task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }
}
