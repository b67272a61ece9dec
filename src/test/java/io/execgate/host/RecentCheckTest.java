package io.execgate.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class RecentCheckTest {

    @Test
    void aCheckRunsOncePerValidityHoweverOftenItIsAsked() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong now = new AtomicLong(1_000);
        RecentCheck check = new RecentCheck(Duration.ofSeconds(5), () -> new BackendStatus("runc", TargetKind.CONTAINER,
                true, "run " + runs.incrementAndGet()), now::get);
        for (int i = 0; i < 100; i++) {
            assertThat(check.get().detail()).isEqualTo("run 1");
        }
        now.addAndGet(Duration.ofSeconds(5).toNanos() - 1);
        assertThat(check.get().detail()).isEqualTo("run 1");
        now.addAndGet(1);
        assertThat(check.get().detail()).isEqualTo("run 2");
        assertThat(runs).hasValue(2);
    }
}
