package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.execgate.ExecgateApplication;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Stopping the service stops every process it started, deleted execs still in their grace period included. */
class ExecShutdownIT {

    @Test
    void shutdownLeavesNoProcessBehind() throws Exception {
        // command-line arguments: they outrank ./config/application.yaml, as they would for an operator
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ExecgateApplication.class)
                .run("--server.port=0", "--execgate.exec.kill-grace-period=1s");
        ExecService execs = context.getBean(ExecService.class);
        String stubborn = "trap '' TERM; while :; do sleep 0.1; done";
        Exec deleted = execs.create(execs.hostTarget(), request(List.of("sh", "-c", stubborn)));
        Exec running = execs.create(execs.hostTarget(), request(List.of("sh", "-c", stubborn)));
        Exec polite = execs.create(execs.hostTarget(), request(List.of("sleep", "600")));
        execs.delete(deleted.id());

        context.close();

        for (Exec exec : List.of(deleted, running, polite)) {
            long pid = exec.snapshot().pid();
            assertThat(Processes.awaitGone(pid, 5_000)).as("process %d of %s", pid, exec.command()).isTrue();
            assertThat(exec.ended()).isDone();
        }
        assertThat(polite.snapshot().exit().signal()).as("SIGTERM came first").isEqualTo("SIGTERM");
        assertThat(running.snapshot().exit().signal()).as("then SIGKILL").isEqualTo("SIGKILL");
    }

    private static ExecRequest request(List<String> command) {
        return new ExecRequest(command, null, null, null, null, null, null, null, null);
    }
}
