package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import io.execgate.ExecgateApplication;
import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

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

    @Test
    void attachedClientsAreToldAndNewExecsRefusedBeforeTheExecsAreTerminated() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ExecgateApplication.class)
                .run("--server.port=0", "--execgate.exec.kill-grace-period=1s");
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
        ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                + "/api/v1/host/exec?command=sh&command=-c&command=echo%20up%3B%20sleep%20600"), ChannelClient.V5);
        client.awaitStdout("up", Duration.ofSeconds(20));
        ExecService execs = context.getBean(ExecService.class);

        context.close();

        assertThat(client.awaitClose(Duration.ofSeconds(20))).as("going away").isEqualTo(1001);
        assertThat(client.statuses()).hasSize(1);
        JsonNode status = JsonMapper.builder().build().readTree(client.statuses().getFirst());
        assertThat(status.path("status").asString()).isEqualTo("Failure");
        assertThat(status.path("reason").asString()).isEqualTo("ServiceUnavailable");
        assertThat(status.path("message").asString()).contains("shutting down");
        assertThat(execs.list(null, null, null, 10)).allSatisfy(exec -> assertThat(exec.ended()).isDone());
        ApiException refused = org.assertj.core.api.Assertions.catchThrowableOfType(ApiException.class,
                () -> execs.create(execs.hostTarget(), request(List.of("true"))));
        assertThat(refused.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
    }

    @Test
    void aRunInFlightIsAnsweredBeforeTheServerStopsAndTheShutdownDoesNotWaitOutItsGracePeriod() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ExecgateApplication.class)
                .run("--server.port=0", "--execgate.exec.kill-grace-period=1s");
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
        ExecService execs = context.getBean(ExecService.class);
        var http = java.net.http.HttpClient.newHttpClient();
        var run = http.sendAsync(java.net.http.HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/host/execs/run"))
                .header("Authorization", "Bearer test-admin-token").header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"command\": [\"sleep\", \"600\"]}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (execs.list(null, null, ExecState.RUNNING, 10).isEmpty()) {
            assertThat(System.nanoTime()).as("the run started").isLessThan(deadline);
            Thread.sleep(20);
        }
        long closing = System.nanoTime();

        context.close();

        // Spring Boot's graceful wait is 30 s: a run nobody terminated would have held it that long, then lost its answer
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).as("the shutdown").isLessThan(Duration.ofSeconds(20));
        var answer = run.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(answer.statusCode()).isEqualTo(200);
        JsonNode exec = JsonMapper.builder().build().readTree(answer.body().strip()).path("exec");
        assertThat(exec.path("signal").asString()).as(answer.body()).isEqualTo("SIGTERM");
        assertThat(exec.path("reason").asString()).isEqualTo("killed");
    }

    private static ExecRequest request(List<String> command) {
        return new ExecRequest(command, null, null, null, null, null, null, null, null);
    }
}
