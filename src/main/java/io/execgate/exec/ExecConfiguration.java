package io.execgate.exec;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import java.util.List;

import io.execgate.host.Targets;
import io.execgate.upstream.Upstreams;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import jakarta.validation.Validator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the exec layer: one timer thread, the registry (restored from the store), the service, and the retention sweep. */
@Configuration(proxyBeanMethods = false)
class ExecConfiguration {

    private static final Logger log = LoggerFactory.getLogger(ExecConfiguration.class);

    private static final Duration MAX_SWEEP_INTERVAL = Duration.ofMinutes(1);

    @Bean(destroyMethod = "shutdownNow")
    ScheduledExecutorService execTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("execgate-timer").factory());
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    @Bean
    ExecRuntime execRuntime(ScheduledExecutorService execTimer, ExecProperties properties) {
        return new ExecRuntime(execTimer, Clock.systemUTC(), properties.copyAfterExitTimeout(),
                properties.killGracePeriod(), new RelayBuffers(properties.relayBufferLimit().toBytes()));
    }

    /**
     * The output the service may hold (running and ended execs together) should leave the heap a quarter for
     * everything else; an operator who sized the heap (or a container's memory) below that hears it at start, not
     * from an OutOfMemoryError under load.
     */
    static boolean warnWhenOutputOutgrowsTheHeap(ExecProperties properties, long maxHeap) {
        long output = properties.runningOutputBytes(maxHeap) + properties.retainedOutputLimit().toBytes();
        if (output <= maxHeap / 4 * 3) {
            return false;
        }
        log.warn("execgate.exec.running-output-limit + retained-output-limit ({} MiB) are more than three quarters of "
                + "the heap ({} MiB): lower them or give the JVM more (-Xmx, -XX:MaxRAMPercentage)",
                output >> 20, maxHeap >> 20);
        return true;
    }

    @Bean(destroyMethod = "shutdown")
    ExecService execService(Targets targets, ExecProperties properties, ExecRuntime runtime, Validator validator,
            ObjectProvider<CallerResolver> callers, List<ExecObserver> observers, Upstreams upstreams,
            ObjectProvider<MeterRegistry> meters, ExecStore store) {
        warnWhenOutputOutgrowsTheHeap(properties, Runtime.getRuntime().maxMemory());
        CallerResolver resolver = callers.getIfAvailable(() -> () -> Caller.SERVICE);
        ExecRegistry registry = new ExecRegistry(properties.maxRecords(), properties.retention(),
                properties.retainedOutputLimit().toBytes(), store);
        int lost = registry.restore(runtime);
        if (lost > 0) {
            log.warn("execs running when execgate last stopped: {}; their records now say state unknown, reason lost",
                    lost);
        }
        ExecService service = new ExecService(targets, registry, properties, runtime, validator, resolver::current,
                observers, upstreams);
        // Sweep often enough that a record outlives its retention by at most a tenth of it (or a minute).
        long every = Math.max(1000, Math.min(MAX_SWEEP_INTERVAL.toMillis(), properties.retention().toMillis() / 10));
        runtime.scheduler().scheduleWithFixedDelay(service::sweepOffTimer, every, every, TimeUnit.MILLISECONDS);
        meters.ifAvailable(meterRegistry -> {
            Gauge.builder("execgate.execs.running", service, ExecService::liveCount)
                    .description("Execs that have not ended").register(meterRegistry);
            Gauge.builder("execgate.attachments", service, ExecService::attachmentCount)
                    .description("WebSocket clients attached to execs").register(meterRegistry);
        });
        return service;
    }
}
