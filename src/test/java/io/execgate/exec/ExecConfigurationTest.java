package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** The output the service may hold against the heap it has. */
class ExecConfigurationTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void theRunningLimitIsAQuarterOfTheHeapUnlessSetAndTheStartWarnsWhenTheLimitsOutgrowTheHeap() {
        ExecProperties defaults = properties(null);
        assertThat(defaults.runningOutputBytes(192 * MIB)).isEqualTo(48 * MIB);
        // the retained 256 MiB alone is more than three quarters of a 192 MiB heap
        assertThat(ExecConfiguration.warnWhenOutputOutgrowsTheHeap(defaults, 192 * MIB)).isTrue();
        assertThat(ExecConfiguration.warnWhenOutputOutgrowsTheHeap(defaults, 6144 * MIB)).isFalse();

        ExecProperties set = properties(DataSize.ofMegabytes(64));
        assertThat(set.runningOutputBytes(6144 * MIB)).isEqualTo(64 * MIB);
        // 64 + 256 MiB fit in three quarters of 427 MiB, not of 426
        assertThat(ExecConfiguration.warnWhenOutputOutgrowsTheHeap(set, 427 * MIB)).isFalse();
        assertThat(ExecConfiguration.warnWhenOutputOutgrowsTheHeap(set, 426 * MIB)).isTrue();
    }

    private static ExecProperties properties(DataSize running) {
        return new ExecProperties(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofHours(1), 1000, 64, 32,
                DataSize.ofMegabytes(1), DataSize.ofMegabytes(256), running, Duration.ofSeconds(1), DataSize.ofMegabytes(32));
    }
}
