package io.execgate.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;

/** 200 ms doubling to one minute, each wait within half of its base either way, never beyond the minute. */
class BackoffTest {

    @Test
    void theBaseDoublesFrom200MillisToOneMinute() {
        Backoff middle = new Backoff(fixed(0.5)); // no jitter: the bases themselves
        long[] expected = {200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000};
        for (long millis : expected) {
            assertThat(middle.next()).isEqualTo(Duration.ofMillis(millis));
        }
    }

    @Test
    void jitterStaysWithinHalfTheBaseAndUnderTheCap() {
        Backoff low = new Backoff(fixed(0.0));
        Backoff high = new Backoff(fixed(0.999999));
        assertThat(low.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(high.next()).isEqualTo(Duration.ofMillis(300));
        for (int i = 0; i < 20; i++) {
            assertThat(high.next()).isLessThanOrEqualTo(Backoff.MAX);
        }
        Backoff random = new Backoff(new Random(42));
        long base = 200;
        for (int i = 0; i < 30; i++) {
            long wait = random.next().toMillis();
            assertThat(wait).isBetween(base / 2, Math.min(base * 3 / 2, 60_000));
            base = Math.min(base * 2, 60_000);
        }
    }

    private static RandomGenerator fixed(double value) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return value;
            }
        };
    }
}
