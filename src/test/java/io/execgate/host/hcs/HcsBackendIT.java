package io.execgate.host.hcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HCS backend through the HTTP and WebSocket API, against the fake computecore: real processes behind the HCS
 * calls, the exit event from the fake's thread, and the faults hcsshim works around. Every HCS handle is closed
 * after each test (the fake counts them).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.backends.hcs.enabled=true",
        "execgate.exec.copy-after-exit-timeout=500ms",
        "execgate.exec.kill-grace-period=1s"})
@AutoConfigureRestTestClient
class HcsBackendIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static FakeComputeCore FAKE;

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    Api api;

    @DynamicPropertySource
    static void library(DynamicPropertyRegistry registry) {
        registry.add("execgate.backends.hcs.library", FakeComputeCore.LIBRARY::toString);
    }

    @org.junit.jupiter.api.BeforeAll
    static void fake() {
        assumeTrue(com.sun.jna.Platform.isLinux(), "the fake computecore is Linux's; on Windows HcsWindowsIT runs instead");
        FAKE = FakeComputeCore.load(); // fails when the build did not make it
    }

    @BeforeEach
    void systems() {
        api = new Api(http);
        FAKE.FakeHcs_Reset();
        FAKE.FakeHcs_AddSystem("wcow1", "Container", "containerd-shim-runhcs-v1.exe", "Running", "windows");
        FAKE.FakeHcs_AddSystem("uvm1", "VirtualMachine", "execgate", "Running", "linux");
        FAKE.FakeHcs_AddSystem("lcow1", "Container", "containerd-shim-runhcs-v1.exe", "Running", "linux");
    }

    @AfterEach
    void everyHandleIsClosed() throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (FAKE.FakeHcs_OpenHandles() != 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(FAKE.FakeHcs_OpenHandles()).as("HCS handles left open").isZero();
        assertThat(HcsEvents.registered()).as("processes still registered for events").isZero();
    }

    @Test
    void aLinuxContainerRunsAnOciProcessSpec() {
        JsonNode result = api.post("/api/v1/containers/lcow1/execs/run", """
                {"command": ["sh", "-c", "echo $FOO; pwd"], "env": ["FOO=bar"], "workingDir": "/tmp"}""").expect(200);
        assertThat(result.path("stdout").asString()).isEqualTo("bar\n/tmp\n");
        JsonNode create = JSON.readTree(FAKE.lastRecord("create"));
        assertThat(create.path("OciProcess").path("args").toString()).isEqualTo("[\"sh\",\"-c\",\"echo $FOO; pwd\"]");
        assertThat(create.path("OciProcess").path("env").toString()).contains("\"FOO=bar\"", "\"PATH=");
        assertThat(create.path("OciProcess").path("cwd").asString()).isEqualTo("/tmp");
        assertThat(create.has("CommandArgs") || create.has("CommandLine")).isFalse();
    }

    @Test
    void anExitBeforeTheCallbackIsFoundByAskingAndAFailedFallbackIs422() {
        FAKE.FakeHcs_SetFault("drop-early-event");
        JsonNode result = api.post("/api/v1/containers/wcow1/execs/run", "{\"command\": [\"true\"]}").expect(200);
        assertThat(result.path("exitCode").asInt()).isZero();
        assertThat(result.path("exec").path("reason").asString()).isEqualTo("exited");

        FAKE.FakeHcs_SetFault("wait-fails,getinfo-fails");
        Api.Response failed = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"true\"]}")
                .isProblem(422, "EXEC_START_FAILED");
        assertThat(failed.json().path("detail").asString()).contains("0x80070057");
    }

    @Test
    void aSignalAWindowsProcessCannotTakeIs400AndAKillWithoutAnEventEndsAsLost() throws Exception {
        String id = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201)
                .path("id").asString();
        api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"SIGUSR1\"}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"SIGKILL\"}").expect(202);
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isEqualTo(137);

        FAKE.FakeHcs_SetFault("no-exit-event");
        JsonNode silent = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"sleep\", \"1\"]}").expect(201);
        assertThat(Processes.awaitGone(silent.path("pid").asLong(), 10_000)).isTrue();
        api.post("/api/v1/execs/" + silent.path("id").asString() + "/signal", "{\"signal\": \"SIGKILL\"}").expect(202);
        JsonNode exit = api.awaitExit(silent.path("id").asString());
        assertThat(exit.path("reason").asString()).isEqualTo("lost");
    }

    @Test
    void containersAndUvmsAreListedFromHcs() {
        JsonNode containers = api.get("/api/v1/containers").expect(200);
        JsonNode wcow = find(containers, "wcow1");
        assertThat(wcow.path("runtime").asString()).isEqualTo("hcs");
        assertThat(wcow.path("state").asString()).isEqualTo("running");
        assertThat(wcow.path("labels").path("os").asString()).isEqualTo("windows");
        assertThat(wcow.path("labels").path("owner").asString()).isEqualTo("containerd-shim-runhcs-v1.exe");
        find(containers, "lcow1");
        JsonNode uvm = find(api.get("/api/v1/uvms").expect(200), "uvm1");
        assertThat(uvm.path("accel").asString()).isEqualTo("hyper-v");
        assertThat(api.get("/api/v1/uvms/uvm1").expect(200).path("runtime").asString()).isEqualTo("hcs");
        api.get("/api/v1/uvms/nosuch").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/containers/nosuch/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");

        JsonNode backends = api.get("/api/v1/host").expect(200).path("backends");
        assertThat(backends.toString()).contains("\"name\":\"hcs\"", "computecore from");
    }

    @Test
    void aWindowsCommandLineIsEscapedSoTheArgumentsArriveExactly() {
        JsonNode result = api.post("/api/v1/containers/wcow1/execs/run", """
                {"command": ["sh", "-c", "printf '[%s]' \\"$@\\"; exit 3", "sh", "a b", "q\\"uote", "back\\\\slash\\\\", ""],
                 "env": ["FOO=bar"], "workingDir": "/tmp"}""").expect(200);
        assertThat(result.path("stdout").asString()).isEqualTo("[a b][q\"uote][back\\slash\\][]");
        assertThat(result.path("exitCode").asInt()).isEqualTo(3);
        JsonNode create = JSON.readTree(FAKE.lastRecord("create"));
        assertThat(create.path("CommandLine").asString()).startsWith("sh -c ");
        assertThat(create.has("CommandArgs")).isFalse();
        assertThat(create.path("Environment").path("FOO").asString()).isEqualTo("bar");
        assertThat(create.path("WorkingDirectory").asString()).isEqualTo("/tmp");
        assertThat(create.path("CreateStdOutPipe").asBoolean()).isTrue();
        assertThat(create.path("CreateStdErrPipe").asBoolean()).isTrue();
        assertThat(create.has("CreateStdInPipe")).isFalse();
    }

    @Test
    void aLinuxSystemTakesCommandArgsEnvCwdAndStdin() {
        JsonNode result = api.post("/api/v1/uvms/uvm1/execs/run", """
                {"command": ["sh", "-c", "echo $FOO; pwd; tr a-z A-Z; echo err >&2"], "env": ["FOO=bar"],
                 "workingDir": "/tmp", "stdin": true, "input": "hello\\n"}""").expect(200);
        assertThat(result.path("stdout").asString()).isEqualTo("bar\n/tmp\nHELLO\n");
        assertThat(result.path("stderr").asString()).isEqualTo("err\n");
        JsonNode create = JSON.readTree(FAKE.lastRecord("create"));
        assertThat(create.path("CommandArgs").toString()).isEqualTo("[\"sh\",\"-c\",\"echo $FOO; pwd; tr a-z A-Z; echo err >&2\"]");
        assertThat(create.path("CreateStdInPipe").asBoolean()).isTrue();
        assertThat(FAKE.lastRecord("modify")).as("stdin closed through HCS after the input")
                .isEqualTo("{\"Operation\":\"CloseHandle\",\"CloseHandle\":{\"Handle\":\"StdIn\"}}");
    }

    @Test
    void aTerminalHasItsSizeAndFollowsResizesThroughModifyProcess() throws Exception {
        ChannelClient client = ChannelClient.connect(oneStep("uvms/uvm1", "tty=true&stdin=true&width=100&height=40",
                "sh", "-c", "stty size; read a; stty size; echo $TERM"), ChannelClient.V5);
        client.awaitStdout("40 100", WAIT);
        JsonNode create = JSON.readTree(FAKE.lastRecord("create"));
        assertThat(create.path("EmulateConsole").asBoolean()).isTrue();
        assertThat(create.path("ConsoleSize").toString()).isEqualTo("[40,100]");
        assertThat(create.has("CreateStdErrPipe")).isFalse();
        client.resize(120, 50);
        long deadline = System.currentTimeMillis() + 5_000;
        while (!FAKE.lastRecord("modify").contains("ConsoleSize") && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(FAKE.lastRecord("modify"))
                .isEqualTo("{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":50,\"Width\":120}}");
        client.stdin("\n");
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout()).contains("50 120", "xterm");
    }

    @Test
    void signalsAreLinuxNumbersOrWindowsConsoleEventsAndDeleteTerminates() throws Exception {
        String linux = api.post("/api/v1/uvms/uvm1/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201).path("id").asString();
        api.post("/api/v1/execs/" + linux + "/signal", "{\"signal\": \"SIGTERM\"}").expect(202);
        JsonNode exit = api.awaitExit(linux);
        assertThat(exit.path("exitCode").asInt()).isEqualTo(143);
        assertThat(exit.path("signal").asString()).isEqualTo("SIGTERM");
        assertThat(FAKE.lastRecord("signal")).isEqualTo("{\"Signal\":15}");

        String windows = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201)
                .path("id").asString();
        api.post("/api/v1/execs/" + windows + "/signal", "{\"signal\": \"CtrlC\"}").expect(202);
        assertThat(api.awaitExit(windows).path("exitCode").asInt()).isEqualTo(130);
        assertThat(FAKE.lastRecord("signal")).isEqualTo("{\"Signal\":\"CtrlC\"}");

        // DELETE: CtrlShutdown first (ignored here), then HcsTerminateProcess after the grace period
        JsonNode stubborn = api.post("/api/v1/containers/wcow1/execs",
                "{\"command\": [\"sh\", \"-c\", \"trap '' TERM; sleep 60\"]}").expect(201);
        api.delete("/api/v1/execs/" + stubborn.path("id").asString()).expect(204);
        assertThat(Processes.awaitGone(stubborn.path("pid").asLong(), 10_000)).isTrue();
        assertThat(FAKE.lastRecord("signal")).isEqualTo("{\"Signal\":\"CtrlShutdown\"}");
    }

    @Test
    void anErrorFromCreateIs422WithHcssDetail() {
        FAKE.FakeHcs_SetFault("create-error");
        Api.Response failed = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"true\"]}")
                .isProblem(422, "EXEC_START_FAILED");
        assertThat(failed.json().path("detail").asString())
                .contains("HcsCreateProcess wcow1", "injected create failure", "[Event Detail:", "0x8037010D");
        api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"/no/such/binary\"]}").isProblem(422, "EXEC_START_FAILED");
    }

    @Test
    void aWaitThatFailsAfterTheHandleCameBackIsRecoveredWithGetProcessInfo() {
        FAKE.FakeHcs_SetFault("wait-fails");
        JsonNode result = api.post("/api/v1/containers/wcow1/execs/run", "{\"command\": [\"echo\", \"recovered\"]}")
                .expect(200);
        assertThat(result.path("stdout").asString()).isEqualTo("recovered\n");
        assertThat(result.path("exitCode").asInt()).isZero();
    }

    @Test
    void stdoutThatHcsNeverClosesEndsAfterTheCopyAfterExitTimeout() {
        FAKE.FakeHcs_SetFault("stdout-never-closed");
        long started = System.nanoTime();
        JsonNode result = api.post("/api/v1/containers/wcow1/execs/run", "{\"command\": [\"echo\", \"done\"]}")
                .expect(200);
        assertThat(result.path("stdout").asString()).isEqualTo("done\n");
        assertThat(result.path("exec").path("reason").asString()).isEqualTo("exited");
        assertThat((System.nanoTime() - started) / 1_000_000).as("ended by the 500 ms copy-after-exit timeout")
                .isBetween(400L, 15_000L);
    }

    @Test
    void anExitEventThatNeverComesIsForceUnblockedAfterAFailedSignal() throws Exception {
        FAKE.FakeHcs_SetFault("no-exit-event");
        JsonNode exec = api.post("/api/v1/containers/wcow1/execs", "{\"command\": [\"sleep\", \"1\"]}").expect(201);
        String id = exec.path("id").asString();
        assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).isTrue();
        Thread.sleep(300);
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("state").asString())
                .as("no event, so still running").isEqualTo("running");
        // A signal fails (the process is not found, and no event will come): after a second the exec ends as lost
        api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"CtrlC\"}").expect(202);
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("reason").asString()).isEqualTo("lost");
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("error").asString()).contains("exit event never came");
    }

    @Test
    void aSystemThatVanishesEndsItsExecsAsLost() throws Exception {
        JsonNode exec = api.post("/api/v1/uvms/uvm1/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201);
        String id = exec.path("id").asString();
        FAKE.FakeHcs_RemoveSystem("uvm1");
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("reason").asString()).isEqualTo("lost");
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("error").asString()).contains("went away");
        assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).isTrue();
        api.post("/api/v1/uvms/uvm1/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");
    }

    @Test
    void manyExecsLeaveNoHandleOrDescriptorBehind() throws Exception {
        api.post("/api/v1/containers/lcow1/execs/run", "{\"command\": [\"true\"]}").expect(200);
        int before = Processes.openDescriptors();
        for (int i = 0; i < 30; i++) {
            api.post("/api/v1/containers/lcow1/execs/run", "{\"command\": [\"echo\", \"" + i + "\"], \"stdin\": true}")
                    .expect(200);
        }
        long deadline = System.currentTimeMillis() + 5_000;
        while (Processes.openDescriptors() > before + 5 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Processes.openDescriptors()).isLessThanOrEqualTo(before + 5);
    }

    private URI oneStep(String target, String flags, String... command) {
        String query = Arrays.stream(command).map(c -> "command=" + URLEncoder.encode(c, StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return URI.create("ws://127.0.0.1:" + port + "/api/v1/" + target + "/exec?" + query + "&" + flags);
    }

    private static JsonNode find(JsonNode list, String id) {
        for (JsonNode item : list) {
            if (item.path("id").asString().equals(id)) {
                return item;
            }
        }
        throw new AssertionError("no " + id + " in " + list);
    }
}
