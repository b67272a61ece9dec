package io.execgate.exec;

import java.time.Duration;
import java.util.List;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.TargetRef;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.execgate.upstream.UpstreamPlan;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * The exec metrics (Prometheus names): {@code execgate_execs_started_total{target_kind,outcome}} with outcome
 * {@code started}, {@code failed} or {@code refused}; {@code execgate_exec_start_seconds} (a histogram of how long
 * backends take to start a process); {@code execgate_stream_bytes_total{stream}} and
 * {@code execgate_output_dropped_bytes_total} counted when an exec ends. The running and attachment gauges are
 * registered with the service ({@link ExecConfiguration}).
 */
@Component
class ExecMetrics implements ExecObserver {

    private final MeterRegistry registry;
    private final Timer startTime;
    private final Counter stdoutBytes;
    private final Counter stderrBytes;
    private final Counter droppedBytes;

    ExecMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.startTime = Timer.builder("execgate.exec.start").description("How long backends take to start a process")
                .publishPercentileHistogram().register(registry);
        this.stdoutBytes = streamBytes("stdout");
        this.stderrBytes = streamBytes("stderr");
        this.droppedBytes = Counter.builder("execgate.output.dropped.bytes")
                .description("Output bytes not retained for GET .../output").register(registry);
    }

    private Counter streamBytes(String stream) {
        return Counter.builder("execgate.stream.bytes").tag("stream", stream)
                .description("Bytes execs wrote to their output streams").register(registry);
    }

    private void started(TargetRef target, String outcome) {
        Counter.builder("execgate.execs.started").tag("target_kind", target.kind().value()).tag("outcome", outcome)
                .description("Execs asked for, by how their start went").register(registry).increment();
    }

    @Override
    public void started(Exec exec, List<String> env, @Nullable String user, @Nullable String workingDir,
            @Nullable UpstreamPlan upstream) {
        // counted once the start is decided
    }

    @Override
    public void processStarted(Exec exec, Duration took) {
        startTime.record(took);
        started(exec.target(), "started");
    }

    @Override
    public void ended(Exec exec) {
        ExitStatus exit = exec.snapshot().exit();
        if (exit != null && exit.reason() == ExitReason.START_FAILED) {
            started(exec.target(), "failed");
        }
        stdoutBytes.increment(exec.stdout().total());
        stderrBytes.increment(exec.stderr().total());
        droppedBytes.increment(exec.stdout().dropped() + exec.stderr().dropped());
    }

    @Override
    public void refused(Caller caller, TargetRef target, List<String> command, String reason) {
        started(target, "refused");
    }

}
