package io.execgate.exec;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.exec.*}: the limits and timings of the exec life.
 *
 * @param copyAfterExitTimeout how long output relays may drain after the process exits before its streams are
 *                             closed (a child that keeps them open would hold the exec for ever); 0 waits for ever
 * @param killGracePeriod      how long a process has between SIGTERM and SIGKILL (timeout, delete, shutdown)
 * @param retention            how long records of ended execs are kept
 * @param maxRecords           how many exec records are kept at most; the oldest ended one goes first
 * @param maxRunning           how many execs may run at once (429 {@code TOO_MANY_EXECS} beyond)
 * @param maxRunningPerPrincipal how many of them one principal (token, user) may run
 * @param outputBufferSize     how much of each stream's output an exec retains (the newest bytes)
 * @param retainedOutputLimit  how much output all ended records retain together; beyond it the oldest ended
 *                             records go first
 * @param runningOutputLimit   how much output the buffers of all running execs hold together; beyond it their
 *                             buffers stop growing and drop bytes as a full one does (a run says it was truncated);
 *                             unset, a quarter of the heap
 * @param runKeepAlive         how long a run-to-completion answer waits before it begins, and then between the
 *                             spaces it writes to learn whether its caller is still there (see {@link RunKeepAlive})
 * @param relayBufferLimit     how much memory the output relays of all running execs hold together beyond their
 *                             first 4 KiB chunk each: a flooding stream's relay reads into chunks of up to 1 MiB
 *                             (native memory for a pipe) while there is room, and smaller ones after
 */
@Validated
@ConfigurationProperties("execgate.exec")
public record ExecProperties(
        @DefaultValue("1s") Duration copyAfterExitTimeout,
        @DefaultValue("10s") Duration killGracePeriod,
        @DefaultValue("1h") Duration retention,
        @DefaultValue("1000") @Min(1) @Max(1_000_000) int maxRecords,
        @DefaultValue("64") @Min(1) @Max(100_000) int maxRunning,
        @DefaultValue("32") @Min(1) @Max(100_000) int maxRunningPerPrincipal,
        @DefaultValue("1MB") DataSize outputBufferSize,
        @DefaultValue("256MB") DataSize retainedOutputLimit,
        @Nullable DataSize runningOutputLimit,
        @DefaultValue("1s") Duration runKeepAlive,
        @DefaultValue("32MB") DataSize relayBufferLimit) {

    /** The running output limit in bytes: as configured, or a quarter of {@code maxHeap}. */
    long runningOutputBytes(long maxHeap) {
        return runningOutputLimit != null ? runningOutputLimit.toBytes() : maxHeap / 4;
    }

    @AssertTrue(message = "max-records must be at least max-running")
    boolean isRecordsCoverRunning() {
        return maxRecords >= maxRunning;
    }

    @AssertTrue(message = "durations must not be negative; retention and run-keep-alive must be positive")
    boolean isDurationsValid() {
        return !copyAfterExitTimeout.isNegative() && !killGracePeriod.isNegative() && retention.isPositive()
                && runKeepAlive.isPositive();
    }

    @AssertTrue(message = "output-buffer-size must be between 0 and 64MB")
    boolean isOutputBufferSizeValid() {
        return outputBufferSize.toBytes() >= 0 && outputBufferSize.toBytes() <= DataSize.ofMegabytes(64).toBytes();
    }

    @AssertTrue(message = "relay-buffer-limit must be between 0 and 1GB")
    boolean isRelayBufferLimitValid() {
        return relayBufferLimit.toBytes() >= 0 && relayBufferLimit.toBytes() <= DataSize.ofGigabytes(1).toBytes();
    }

    @AssertTrue(message = "retained-output-limit and running-output-limit must not be negative")
    boolean isOutputLimitsValid() {
        return retainedOutputLimit.toBytes() >= 0 && (runningOutputLimit == null || runningOutputLimit.toBytes() >= 0);
    }
}
