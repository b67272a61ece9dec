package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.ExecgateProperties;
import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * Real utility VMs under software emulation: the image uvm/build-image makes, booted by the service, with
 * commands run through the agent over REST and WebSocket. Skipped where QEMU or the image is missing
 * (.ci/run installs QEMU and builds the image).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.exec.kill-grace-period=2s",
        // a comma in the data directory, which QEMU's option syntax would split (the agent's socket lives there)
        "execgate.data-dir=target/qemu-it,data"})
@AutoConfigureRestTestClient
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QemuUvmIT {

    private static final Path IMAGE = Path.of("target/uvm-image");
    private static final Duration BOOT = Duration.ofSeconds(120);

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    @Autowired
    QemuUvmProvider provider;
    @Autowired
    ExecgateProperties service;
    Api api;

    @BeforeAll
    void bootOne() throws Exception {
        assumeTrue(Files.isRegularFile(IMAGE.resolve("initrd.img")) && Files.isRegularFile(IMAGE.resolve("vmlinuz")),
                "skipped: no UVM image in target/uvm-image (uvm/build-image makes it)");
        assumeTrue(provider.status().available(), () -> "skipped: " + provider.status().detail());
        api = new Api(http);
        JsonNode created = api.post("/api/v1/uvms", "{\"id\": \"t1\", \"memoryMiB\": 256}").expect(201);
        assertThat(created.path("state").asString()).isIn("booting", "running");
        assertThat(created.path("runtime").asString()).isEqualTo("qemu");
        awaitState("t1", "running");
    }

    @AfterAll
    void deleteAll() {
        if (api != null) {
            for (String id : List.of("t1", "t2", "t3")) {
                api.delete("/api/v1/uvms/" + id);
            }
        }
    }

    @Test
    void theGuestRunsTheDebianCloudKernelTheImageCarries() throws Exception {
        JsonNode run = api.post("/api/v1/uvms/t1/execs/run", "{\"command\": [\"uname\", \"-r\"]}").expect(200);
        assertThat(run.path("stdout").asString().strip()).isEqualTo(Files.readString(IMAGE.resolve("release")).strip())
                .endsWith("-cloud-amd64");
        JsonNode uvm = api.get("/api/v1/uvms/t1").expect(200);
        assertThat(uvm.path("accel").asString()).isIn("tcg", "kvm");
        assertThat(uvm.path("bootMillis").asLong()).isPositive();
        assertThat(uvm.path("memoryMiB").asInt()).isEqualTo(256);
        assertThat(api.get("/api/v1/uvms").expect(200)).anySatisfy(v -> assertThat(v.path("id").asString()).isEqualTo("t1"));
        assertThat(api.get("/api/v1/uvms/t1/console").text()).isNotNull();
    }

    @Test
    void exitCodesEnvironmentWorkingDirectoryStdinAndStderr() {
        JsonNode run = api.post("/api/v1/uvms/t1/execs/run", """
                {"command": ["sh", "-c", "echo \\"$GREETING\\" from $(pwd); tr a-z A-Z; echo oops >&2; exit 7"],
                 "env": ["GREETING=hello"], "workingDir": "/tmp", "stdin": true, "input": "quiet\\n"}""").expect(200);
        assertThat(run.path("exitCode").asInt()).isEqualTo(7);
        assertThat(run.path("stdout").asString()).isEqualTo("hello from /tmp\nQUIET\n");
        assertThat(run.path("stderr").asString()).isEqualTo("oops\n");
        api.post("/api/v1/uvms/t1/execs", "{\"command\": [\"/no/such/program\"]}").isProblem(422, "EXEC_START_FAILED");
        api.post("/api/v1/uvms/nope/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");
    }

    @Test
    void anArgumentOrVariableTooLongForTheAgentIsAStartFailureNotAnError() {
        String huge = "x".repeat(70_000); // the agent's strings have a u16 length
        JsonNode problem = api.post("/api/v1/uvms/t1/execs/run", "{\"command\": [\"echo\", \"" + huge + "\"]}")
                .isProblem(422, "EXEC_START_FAILED").json();
        assertThat(problem.path("detail").asString()).contains("argument 1", "70000 bytes", "65535");
        String execId = problem.path("execId").asString();
        assertThat(api.get("/api/v1/execs/" + execId).expect(200).path("reason").asString()).isEqualTo("start-failed");
        api.post("/api/v1/uvms/t1/execs", "{\"command\": [\"true\"], \"env\": [\"BIG=" + huge + "\"]}")
                .isProblem(422, "EXEC_START_FAILED");
    }

    @Test
    void aTerminalOverTheWebSocketFormWithItsSizeAResizeAndAnExitCode() throws Exception {
        ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                + "/api/v1/uvms/t1/exec?command=sh&stdin=true&stdout=true&tty=true&width=100&height=40"), ChannelClient.V5);
        client.stdin("stty size\n");
        client.awaitStdout("40 100", Duration.ofSeconds(30));
        client.resize(132, 50);
        client.stdin("sleep 0.5; stty size\n");
        client.awaitStdout("50 132", Duration.ofSeconds(30));
        client.stdin("exit 9\n");
        assertThat(client.awaitClose(Duration.ofSeconds(30))).isEqualTo(1000);
        assertThat(client.statuses()).singleElement().asString().contains("\"message\":\"9\"");
    }

    @Test
    void aSignalEndsTheProcess() {
        JsonNode exec = api.post("/api/v1/uvms/t1/execs", "{\"command\": [\"sleep\", \"600\"]}").expect(201);
        String id = exec.path("id").asString();
        assertThat(api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"SIGINT\"}").status()).isEqualTo(202);
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("signal").asString()).isEqualTo("SIGINT");
        assertThat(exit.path("exitCode").asInt()).isEqualTo(130);
    }

    @Test
    void twentyExecsFinishWhileOneClientReadsNothing() throws Exception {
        ChannelClient stalled = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                + "/api/v1/uvms/t1/exec?command=yes&stdout=true"), true, false, ChannelClient.V5);
        try {
            List<CompletableFuture<JsonNode>> runs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String body = "{\"command\": [\"sh\", \"-c\", \"echo " + i + "\"]}";
                runs.add(CompletableFuture.supplyAsync(() -> api.post("/api/v1/uvms/t1/execs/run", body).expect(200),
                        runnable -> Thread.ofPlatform().start(runnable)));
            }
            for (int i = 0; i < 20; i++) {
                JsonNode run = runs.get(i).get(120, TimeUnit.SECONDS);
                assertThat(run.path("stdout").asString()).isEqualTo(i + "\n");
                assertThat(run.path("exitCode").asInt()).isZero();
            }
            assertThat(stalled.isClosed()).as("the client that reads nothing is still there").isFalse();
        } finally {
            stalled.abort();
        }
    }

    @Test
    void tenMebibytesOfOutputWithAMatchingDigest() throws Exception {
        JsonNode made = api.post("/api/v1/uvms/t1/execs/run", """
                {"command": ["sh", "-c", "head -c 10485760 /dev/urandom > /tmp/blob && sha256sum /tmp/blob"]}""")
                .expect(200);
        String digest = made.path("stdout").asString().split(" ")[0];
        ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port
                + "/api/v1/uvms/t1/exec?command=cat&command=/tmp/blob&stdout=true"), ChannelClient.V5);
        assertThat(client.awaitClose(Duration.ofSeconds(120))).isEqualTo(1000);
        byte[] received = client.stdoutBytes();
        assertThat(received).hasSize(10 * 1024 * 1024);
        assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(received)))
                .isEqualTo(digest);
    }

    @Test
    void killingQemuEndsItsExecsLostAndFailsTheUvm() throws Exception {
        api.post("/api/v1/uvms", "{\"id\": \"t2\"}").expect(201);
        awaitState("t2", "running");
        String id = api.post("/api/v1/uvms/t2/execs", "{\"command\": [\"sleep\", \"600\"]}").expect(201)
                .path("id").asString();
        long qemu = provider.describe("t2").orElseThrow().pid();
        ProcessHandle.of(qemu).orElseThrow().destroyForcibly();
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("reason").asString()).isEqualTo("lost");
        JsonNode uvm = awaitState("t2", "failed");
        assertThat(uvm.path("error").asString()).contains("QEMU exited");
        assertThat(api.delete("/api/v1/uvms/t2").status()).isEqualTo(204);
    }

    @Test
    void deleteLeavesNoProcessAndNoFile() throws Exception {
        api.post("/api/v1/uvms", "{\"id\": \"t3\"}").expect(201);
        awaitState("t3", "running");
        long qemu = provider.describe("t3").orElseThrow().pid();
        String exec = api.post("/api/v1/uvms/t3/execs", "{\"command\": [\"sleep\", \"600\"]}").expect(201)
                .path("id").asString();
        assertThat(api.delete("/api/v1/uvms/t3").status()).isEqualTo(204);
        assertThat(Processes.awaitGone(qemu, 15_000)).isTrue();
        assertThat(api.awaitExit(exec).path("reason").asString()).isEqualTo("lost");
        api.get("/api/v1/uvms/t3").isProblem(404, "TARGET_NOT_FOUND");
        api.delete("/api/v1/uvms/t3").isProblem(404, "TARGET_NOT_FOUND");
        try (var dirs = Files.list(service.dataDir().resolve("uvm"))) {
            assertThat(dirs.count()).as("only t1's directory remains").isEqualTo(1);
        }
    }

    @Test
    void badRequestsAreProblems() {
        api.post("/api/v1/uvms", "{\"id\": \"t1\"}").isProblem(409, "CONFLICT");
        api.post("/api/v1/uvms", "{\"id\": \"-bad\"}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/uvms", "{\"memoryMiB\": 64}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/uvms", "{\"cpus\": 0}").isProblem(400, "INVALID_REQUEST");
        api.get("/api/v1/uvms/nope/console").isProblem(404, "TARGET_NOT_FOUND");
    }

    private JsonNode awaitState(String id, String state) throws InterruptedException {
        long deadline = System.nanoTime() + BOOT.toNanos();
        JsonNode uvm = api.get("/api/v1/uvms/" + id).expect(200);
        while (!uvm.path("state").asString().equals(state)) {
            assertThat(System.nanoTime()).as("uvm %s to be %s; it is %s (console: %s)", id, state, uvm,
                    api.get("/api/v1/uvms/" + id + "/console").text()).isLessThan(deadline);
            Thread.sleep(200);
            uvm = api.get("/api/v1/uvms/" + id).expect(200);
        }
        return uvm;
    }
}
