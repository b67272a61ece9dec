package io.execgate.upstream;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The waits between attempts to reopen a pipe: 200 ms doubling to at most one minute, each jittered by up to
 * half either way, so that many execs whose reader restarted do not all knock at once. A new outage starts over.
 */
final class Backoff {

    static final Duration INITIAL = Duration.ofMillis(200);
    static final Duration MAX = Duration.ofMinutes(1);

    private final RandomGenerator random;
    private long nextMillis = INITIAL.toMillis();

    Backoff(RandomGenerator random) {
        this.random = random;
    }

    /** The wait before the next attempt. */
    Duration next() {
        long base = nextMillis;
        nextMillis = Math.min(nextMillis * 2, MAX.toMillis());
        long jittered = Math.round(base * (0.5 + random.nextDouble()));
        return Duration.ofMillis(Math.min(jittered, MAX.toMillis()));
    }
}
