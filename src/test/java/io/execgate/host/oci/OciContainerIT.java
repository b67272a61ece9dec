package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import io.execgate.support.TestContainers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
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
 * The OCI backend against real runc containers this test starts under two private roots: listing, exec with
 * everything an exec request carries, terminals, signals, a container killed mid-exec, ids in two roots.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.exec.kill-grace-period=2s",
        "execgate.backends.oci.output-grace=1s"})
@AutoConfigureRestTestClient
class OciContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path DIR = TestContainers.tempDir("execgate-oci-it");
    private static final Path ROOT_A = DIR.resolve("runc-a");
    private static final Path ROOT_B = DIR.resolve("runc-b");
    private static final Path DATA = DIR.resolve("data");

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    Api api;

    @DynamicPropertySource
    static void roots(DynamicPropertyRegistry registry) {
        registry.add("execgate.backends.oci.roots", () -> ROOT_A + "," + ROOT_B);
        registry.add("execgate.data-dir", DATA::toString);
    }

    @BeforeAll
    static void startContainers() throws IOException {
        String why = TestContainers.unavailableBecause("runc");
        assumeTrue(why == null, () -> "skipped: " + why);
        Path bundle = TestContainers.bundle(DIR.resolve("bundle"));
        TestContainers.start("runc", ROOT_A, bundle, "c1");
        TestContainers.start("runc", ROOT_A, bundle, "dup");
        TestContainers.start("runc", ROOT_B, bundle, "dup");
        // a container with a group added to its process, as docker run --group-add 2000 or a pod's fsGroup gives,
        // its primary gid listed too, as containerd writes it
        Path grouped = TestContainers.bundle(DIR.resolve("grouped-bundle"));
        tools.jackson.databind.node.ObjectNode config = (tools.jackson.databind.node.ObjectNode) JSON.readTree(
                grouped.resolve("config.json").toFile());
        ((tools.jackson.databind.node.ObjectNode) config.path("process").path("user")).putArray("additionalGids")
                .add(0).add(2000);
        JSON.writeValue(grouped.resolve("config.json").toFile(), config);
        TestContainers.start("runc", ROOT_A, grouped, "grouped");
    }

    @AfterAll
    static void removeContainers() throws IOException {
        TestContainers.removeAll("runc", ROOT_A, DIR.resolve("unused"));
        TestContainers.removeAll("runc", ROOT_B, DIR);
    }

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @AfterEach
    void noExecFilesRemain() throws Exception {
        Path work = DATA.resolve("oci");
        long deadline = System.currentTimeMillis() + 5_000;
        while (execDirs(work) > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertThat(execDirs(work)).as("per-exec process spec directories left under %s", work).isZero();
    }

    @Test
    void containersAreListedWithRuntimeStatePidLabelsAndRoot() {
        JsonNode list = api.get("/api/v1/containers").expect(200);
        JsonNode c1 = find(list, "c1", ROOT_A);
        assertThat(c1.path("runtime").asString()).isEqualTo("runc");
        assertThat(c1.path("state").asString()).isEqualTo("running");
        assertThat(c1.path("pid").asLong()).isPositive();
        assertThat(c1.path("createdAt").asString()).isNotBlank();
        assertThat(c1.path("labels").path("io.kubernetes.cri.container-name").asString()).isEqualTo("web");

        JsonNode one = api.get("/api/v1/containers/c1").expect(200);
        assertThat(one.path("pid").asLong()).isEqualTo(c1.path("pid").asLong());
        api.get("/api/v1/containers/nosuch").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/containers/nosuch/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");

        JsonNode backends = api.get("/api/v1/host").expect(200).path("backends");
        JsonNode runc = null;
        for (JsonNode backend : backends) {
            if (backend.path("kind").asString().equals("container") && !backend.path("name").asString().equals("hcs")) {
                runc = backend;
            }
        }
        assertThat(runc).isNotNull();
        assertThat(runc.path("name").asString()).isEqualTo("runc");
        assertThat(runc.path("available").asBoolean()).isTrue();
        assertThat(runc.path("detail").asString()).matches("runc \\d+\\.\\d+\\.\\d+.*");
    }

    @Test
    void anIdUnderTwoRootsIsListedTwiceAndMustBeQualified() {
        JsonNode list = api.get("/api/v1/containers").expect(200);
        find(list, "runc-a:dup", ROOT_A);
        find(list, "runc-b:dup", ROOT_B);
        Api.Response ambiguous = api.get("/api/v1/containers/dup").isProblem(409, "CONFLICT");
        assertThat(ambiguous.json().path("ids").toString()).contains("runc-a:dup", "runc-b:dup");
        api.post("/api/v1/containers/dup/execs/run", "{\"command\": [\"true\"]}").isProblem(409, "CONFLICT");
        assertThat(ChannelClient.refused(oneStep("dup", "", "true"), ChannelClient.V5).status()).isEqualTo(409);

        assertThat(api.get("/api/v1/containers/runc-b:dup").expect(200).path("root").asString()).isEqualTo(ROOT_B.toString());
        JsonNode result = run("runc-b:dup", "{\"command\": [\"hostname\"]}");
        assertThat(result.path("stdout").asString()).isEqualTo("box\n");
        assertThat(result.path("exec").path("target").path("id").asString()).isEqualTo("runc-b:dup");
    }

    @Test
    void theCommandRunsInsideTheContainer() {
        JsonNode result = run("c1", """
                {"command": ["sh", "-c", "hostname; echo $$; test -x /bin/busybox && test ! -e /usr/bin/java && echo inside"]}""");
        assertThat(result.path("exitCode").asInt()).isZero();
        List<String> lines = result.path("stdout").asString().lines().toList();
        assertThat(lines.get(0)).isEqualTo("box");
        assertThat(Integer.parseInt(lines.get(1))).as("a pid in the container's namespace").isLessThan(1000);
        assertThat(lines.get(2)).isEqualTo("inside");
        assertThat(result.path("exec").path("pid").asLong()).as("the host pid").isPositive();
    }

    @Test
    void exitCodesPassThrough() {
        for (int code : new int[] {0, 3, 255}) {
            JsonNode result = run("c1", "{\"command\": [\"sh\", \"-c\", \"echo out; echo err >&2; exit %d\"]}".formatted(code));
            assertThat(result.path("exitCode").asInt()).isEqualTo(code);
            assertThat(result.path("stdout").asString()).isEqualTo("out\n");
            assertThat(result.path("stderr").asString()).isEqualTo("err\n");
            assertThat(result.path("exec").path("reason").asString()).isEqualTo("exited");
        }
        // The runtime reports a death by signal n as 128 + n, as a shell does, and so does a plain exit with that
        // code: the code passes through, and only a signal execgate delivered is named.
        for (int code : new int[] {130, 160, 200}) {
            JsonNode result = run("c1", "{\"command\": [\"sh\", \"-c\", \"exit %d\"]}".formatted(code));
            assertThat(result.path("exitCode").asInt()).isEqualTo(code);
            assertThat(result.path("exec").path("reason").asString()).isEqualTo("exited");
            assertThat(result.path("exec").path("signal").isNull()).isTrue();
        }
        JsonNode killed = run("c1", "{\"command\": [\"sh\", \"-c\", \"kill -9 $$\"]}");
        assertThat(killed.path("exitCode").asInt()).isEqualTo(137);
        assertThat(killed.path("exec").path("reason").asString()).isEqualTo("exited");
    }

    @Test
    void startFailuresAnswer422WithTheRuntimesMessageAndShellCodes() {
        startFailure("{\"command\": [\"/bin/nosuch\"]}", 127, "/bin/nosuch");
        startFailure("{\"command\": [\"nosuch\"]}", 127, "nosuch");
        startFailure("{\"command\": [\"/etc/passwd\"]}", 126, "permission denied");
        startFailure("{\"command\": [\"true\"], \"workingDir\": \"/nosuch\"}", null, "/nosuch");
        startFailure("{\"command\": [\"true\"], \"user\": \"nobody-here\"}", null, "no user nobody-here");
        startFailure("{\"command\": [\"true\"], \"user\": \"app:nogroup\"}", null, "no group nogroup");
    }

    @Test
    void anExecAsAnotherUserKeepsTheGroupsAddedToTheContainer() {
        assertThat(run("grouped", "{\"command\": [\"id\", \"-G\"]}").path("stdout").asString()).isEqualTo("0 2000\n");
        assertThat(run("grouped", "{\"command\": [\"id\", \"-G\"], \"user\": \"app\"}").path("stdout").asString())
                .as("app's own group and membership, and the added one; not root's 0").isEqualTo("1000 5 2000\n");
        assertThat(run("grouped", "{\"command\": [\"id\", \"-G\"], \"user\": \"app:extra\"}").path("stdout")
                .asString()).isEqualTo("5 2000\n");
        assertThat(run("c1", "{\"command\": [\"id\", \"-G\"], \"user\": \"app\"}").path("stdout").asString())
                .as("nothing added to c1").isEqualTo("1000 5\n");
    }

    @Test
    void envWorkingDirAndUserComeFromTheRequestOverTheContainersOwn() {
        JsonNode env = run("c1", """
                {"command": ["sh", "-c", "echo $FOO $BAR; echo $PATH; pwd; id -u; id -g"], "env": ["BAR=mine"]}""");
        assertThat(env.path("stdout").asString()).isEqualTo(
                "from-image mine\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n0\n0\n");
        JsonNode overridden = run("c1", """
                {"command": ["sh", "-c", "echo $FOO; pwd"], "env": ["FOO=replaced"], "workingDir": "/tmp"}""");
        assertThat(overridden.path("stdout").asString()).isEqualTo("replaced\n/tmp\n");

        JsonNode numeric = run("c1", """
                {"command": ["sh", "-c", "id -u; id -g"], "user": "1000:1001"}""");
        assertThat(numeric.path("stdout").asString()).isEqualTo("1000\n1001\n");
        JsonNode named = run("c1", """
                {"command": ["sh", "-c", "id -u; id -g; id -G; echo $HOME"], "user": "app"}""");
        assertThat(named.path("stdout").asString()).isEqualTo("1000\n1000\n1000 5\n/home/app\n");
        JsonNode group = run("c1", """
                {"command": ["id", "-g"], "user": "app:extra"}""");
        assertThat(group.path("stdout").asString()).isEqualTo("5\n");
        JsonNode privileges = run("c1", """
                {"command": ["sh", "-c", "grep NoNewPrivs /proc/self/status"], "user": "app"}""");
        assertThat(privileges.path("stdout").asString()).as("no_new_privs kept from the container")
                .isEqualTo("NoNewPrivs:\t1\n");
    }

    @Test
    void stdinReachesTheProcessOverRestAndWebSocket() throws Exception {
        JsonNode result = run("c1", """
                {"command": ["sh", "-c", "tr a-z A-Z"], "stdin": true, "input": "hello\\n"}""");
        assertThat(result.path("stdout").asString()).isEqualTo("HELLO\n");

        ChannelClient client = ChannelClient.connect(oneStep("c1", "stdin=true", "cat"), ChannelClient.V5);
        client.stdin("over ");
        client.stdin("websocket\n");
        client.closeStdin();
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout()).isEqualTo("over websocket\n");
        assertThat(status(client).path("status").asString()).isEqualTo("Success");
    }

    /**
     * A terminal exec that is ended (a timeout here; a DELETE or a client gone alike) takes its whole session with
     * it, as a hangup would: an interactive shell ignores SIGTERM and runs each job in a process group of its own.
     */
    @Test
    void anEndedTerminalExecLeavesNoJobOfItsShellRunning() throws Exception {
        String id = api.post("/api/v1/containers/c1/execs", """
                {"command": ["sh", "-c", "set -m; (trap '' TERM HUP; exec sleep 4321) & trap '' TERM; echo READY; while :; do sleep 1; done"],
                 "tty": true, "timeoutSeconds": 1}""").expect(201).path("id").asString();
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("reason").asString()).isEqualTo("timeout");
        assertThat(exit.path("signal").asString()).as("the shell died of the hangup, which execgate sent").isEqualTo("SIGHUP");
        assertThat(exit.path("exitCode").asInt()).isEqualTo(129);
        assertThat(api.get("/api/v1/execs/" + id + "/output?stream=stdout").text()).contains("READY");
        String left = "";
        for (int i = 0; i < 50; i++) {
            left = api.post("/api/v1/containers/c1/execs/run", "{\"command\": [\"ps\", \"-o\", \"args\"]}")
                    .expect(200).path("stdout").asString();
            if (!left.contains("sleep 4321")) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(left).as("the job the shell started in a group of its own").doesNotContain("sleep 4321");
    }

    @Test
    void aTerminalHasItsSizeFromTheStartAndFollowsResizes() throws Exception {
        for (int i = 0; i < 10; i++) {
            ChannelClient client = ChannelClient.connect(oneStep("c1", "tty=true&width=100&height=40", "stty", "size"),
                    ChannelClient.V5);
            assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
            // The size is what counts. The line's end depends on when runc sets the terminals' modes, which is
            // runc's, not execgate's: it clears ONLCR on the container's terminal and makes its own (execgate's)
            // raw, and a command that writes at once can beat either, so "\n", "\r\n" and "\r\r\n" all occur.
            assertThat(client.stdout()).as("run %d", i).matches("40 100\r{0,2}\n");
        }
        ChannelClient client = ChannelClient.connect(oneStep("c1", "tty=true&stdin=true&width=80&height=24", "sh", "-c",
                "stty size; read a; stty size; read b; stty size; echo $TERM; exit 7"), ChannelClient.V5);
        client.awaitStdout("24 80", WAIT);
        client.resize(120, 50);
        awaitResized();
        client.stdin("\n");
        client.awaitStdout("50 120", WAIT);
        api.post("/api/v1/execs/" + newestExec() + "/resize", "{\"width\": 132, \"height\": 43}").expect(204);
        awaitResized();
        client.stdin("\n");
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout().replaceAll("\r+\n", "\n")).contains("24 80\n", "50 120\n", "43 132\n", "xterm\n");
        assertThat(status(client).path("details").path("causes").get(0).path("message").asString()).isEqualTo("7");
    }

    @Test
    void signalsAndDeleteReachTheProcessInTheContainer() throws Exception {
        String id = api.post("/api/v1/containers/c1/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201)
                .path("id").asString();
        api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"SIGTERM\"}").expect(202);
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("exitCode").asInt()).isEqualTo(143);
        assertThat(exit.path("signal").asString()).isEqualTo("SIGTERM");

        // A process that ignores SIGTERM: DELETE terminates, then kills after the grace period, runtime and all.
        JsonNode stubborn = api.post("/api/v1/containers/c1/execs",
                "{\"command\": [\"sh\", \"-c\", \"trap '' TERM; sleep 60 & wait\"]}").expect(201);
        long pid = stubborn.path("pid").asLong();
        List<Long> runtimes = runtimeProcesses();
        assertThat(runtimes).isNotEmpty();
        api.delete("/api/v1/execs/" + stubborn.path("id").asString()).expect(204);
        assertThat(Processes.awaitGone(pid, 10_000)).as("the process in the container is gone").isTrue();
        for (long runtime : runtimes) {
            assertThat(Processes.awaitGone(runtime, 10_000)).as("runc exec %d is gone", runtime).isTrue();
        }
        assertThat(liveSleeps()).as("live sleeps in the container").isEqualTo(1); // the init
    }

    @Test
    void backgroundProcessesHoldingTheOutputAreEndedAfterTheGraceAndTheCodeStays() throws Exception {
        long started = System.nanoTime();
        JsonNode result = run("c1", "{\"command\": [\"sh\", \"-c\", \"sleep 45 & echo hi; exit 4\"]}");
        assertThat(result.path("exitCode").asInt()).isEqualTo(4);
        assertThat(result.path("stdout").asString()).isEqualTo("hi\n");
        assertThat((System.nanoTime() - started) / 1_000_000_000).as("well before the sleep's 45 s").isLessThan(20);
        assertThat(liveSleeps()).isEqualTo(1);

        // DELETE once the command is gone and only what it left runs: the group still gets the signals
        String id = api.post("/api/v1/containers/c1/execs", "{\"command\": [\"sh\", \"-c\", \"sleep 45 & exit 0\"]}")
                .expect(201).path("id").asString();
        api.delete("/api/v1/execs/" + id).expect(204);
        long deadline = System.currentTimeMillis() + 10_000;
        while (liveSleeps() > 1 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(liveSleeps()).isEqualTo(1);
    }

    @Test
    void pausedStoppedAndConfiglessContainersAnswerPlainly() throws Exception {
        Path bundle = TestContainers.bundle(DIR.resolve("bundle-frozen"));
        TestContainers.start("runc", ROOT_A, bundle, "frozen");
        try {
            JsonNode exec = api.post("/api/v1/containers/frozen/execs", "{\"command\": [\"sleep\", \"60\"]}").expect(201);
            TestContainers.run(List.of("runc", "--root=" + ROOT_A, "pause", "frozen"));
            api.post("/api/v1/containers/frozen/execs/run", "{\"command\": [\"true\"]}").isProblem(409, "CONFLICT");
            // a SIGKILL waits for the thaw: the runtime goes instead, and the exec ends now
            String id = exec.path("id").asString();
            api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"SIGKILL\"}").expect(202);
            api.delete("/api/v1/execs/" + id).expect(204);
            long deadline = System.currentTimeMillis() + 15_000;
            while (!runtimeProcesses().isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(runtimeProcesses()).as("the runtime went though the process is frozen").isEmpty();
            TestContainers.run(List.of("runc", "--root=" + ROOT_A, "resume", "frozen"));
            assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).as("killed once thawed").isTrue();

        } finally {
            TestContainers.delete("runc", ROOT_A, "frozen");
        }
        // config.json is read at a container's first exec (and kept while its init lives): one gone by then
        Path configless = TestContainers.bundle(DIR.resolve("bundle-configless"));
        TestContainers.start("runc", ROOT_A, configless, "configless");
        try {
            Files.move(configless.resolve("config.json"), configless.resolve("config.moved"));
            Api.Response noConfig = api.post("/api/v1/containers/configless/execs", "{\"command\": [\"true\"]}")
                    .isProblem(422, "EXEC_START_FAILED");
            assertThat(noConfig.json().path("detail").asString()).contains("config.json");
        } finally {
            TestContainers.delete("runc", ROOT_A, "configless");
        }
    }

    private int liveSleeps() {
        // Killed processes whose parent died are reparented to the container's init, which (being sleep) leaves
        // them as zombies: count the live ones.
        return Integer.parseInt(run("c1", "{\"command\": [\"sh\", \"-c\", \"ps -o stat,comm | grep -v '^Z' | grep -c sleep\"]}")
                .path("stdout").asString().strip());
    }

    @Test
    void aContainerKilledMidExecEndsTheExecAsLostAndStoppedContainersAnswer409() throws Exception {
        Path bundle = DIR.resolve("bundle");
        TestContainers.start("runc", ROOT_A, bundle, "doomed");
        try {
            String rest = api.post("/api/v1/containers/doomed/execs", "{\"command\": [\"sleep\", \"100\"]}").expect(201)
                    .path("id").asString();
            ChannelClient client = ChannelClient.connect(oneStep("doomed", "", "sh", "-c", "echo up; sleep 100"),
                    ChannelClient.V5);
            client.awaitStdout("up", WAIT);
            TestContainers.kill("runc", ROOT_A, "doomed");

            assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
            JsonNode status = status(client);
            assertThat(status.path("status").asString()).isEqualTo("Failure");
            assertThat(status.path("details").path("causes").get(0).path("message").asString()).isEqualTo("137");

            JsonNode exit = api.awaitExit(rest);
            assertThat(exit.path("reason").asString()).isEqualTo("lost");
            assertThat(exit.path("exitCode").asInt()).isEqualTo(137);
            JsonNode exec = api.get("/api/v1/execs/" + rest).expect(200);
            assertThat(exec.path("error").asString()).contains("doomed", "stopped");

            awaitState("doomed", "stopped");
            api.post("/api/v1/containers/doomed/execs/run", "{\"command\": [\"true\"]}").isProblem(409, "CONFLICT");
        } finally {
            TestContainers.delete("runc", ROOT_A, "doomed");
        }
        api.get("/api/v1/containers/doomed").isProblem(404, "TARGET_NOT_FOUND");
    }

    @Test
    void manyExecsLeaveNoDescriptorsOrProcessesBehind() throws Exception {
        run("c1", "{\"command\": [\"true\"]}"); // warm up
        int before = Processes.openDescriptors();
        for (int i = 0; i < 20; i++) {
            run("c1", "{\"command\": [\"sh\", \"-c\", \"echo " + i + "\"]}");
            startFailure("{\"command\": [\"/bin/nosuch\"]}", 127, "nosuch");
        }
        ChannelClient tty = ChannelClient.connect(oneStep("c1", "tty=true", "true"), ChannelClient.V5);
        assertThat(tty.awaitClose(WAIT)).isEqualTo(1000);
        long deadline = System.currentTimeMillis() + 5_000;
        while (Processes.openDescriptors() > before + 5 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Processes.openDescriptors()).isLessThanOrEqualTo(before + 5);
        assertThat(runtimeProcesses()).isEmpty();
    }

    @Test
    void theReadmeClientExecsInAContainer() throws Exception {
        Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import websocket").start();
        assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "needs Debian's python3-websocket (.ci/run installs it)");
        Process client = new ProcessBuilder("/usr/bin/python3", "examples/exec.py", "--server", "127.0.0.1:" + port,
                "--token", Api.ADMIN_TOKEN, "--container", "c1", "-i", "--", "sh", "-c", "cat; hostname; exit 5")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        client.getOutputStream().write("piped\n".getBytes(StandardCharsets.UTF_8));
        client.getOutputStream().close();
        String stdout = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(stdout).isEqualTo("piped\nbox\n");
        assertThat(client.exitValue()).isEqualTo(5);
    }

    private JsonNode run(String container, String json) {
        return api.post("/api/v1/containers/" + container + "/execs/run", json).expect(200);
    }

    private void startFailure(String json, Integer shellCode, String message) {
        Api.Response response = api.post("/api/v1/containers/c1/execs", json).isProblem(422, "EXEC_START_FAILED");
        assertThat(response.json().path("detail").asString()).containsIgnoringCase(message);
        JsonNode exec = api.get("/api/v1/execs/" + response.json().path("execId").asString()).expect(200);
        assertThat(exec.path("state").asString()).isEqualTo("failed");
        if (shellCode != null) {
            assertThat(exec.path("exitCode").asInt()).isEqualTo(shellCode);
        }
    }

    private static JsonNode find(JsonNode list, String id, Path root) {
        for (JsonNode container : list) {
            if (container.path("id").asString().equals(id) && container.path("root").asString().equals(root.toString())) {
                return container;
            }
        }
        throw new AssertionError("no container " + id + " under " + root + " in " + list);
    }

    private void awaitState(String id, String state) throws InterruptedException {
        long deadline = System.currentTimeMillis() + WAIT.toMillis();
        while (!api.get("/api/v1/containers/" + id).expect(200).path("state").asString().equals(state)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(api.get("/api/v1/containers/" + id).expect(200).path("state").asString()).isEqualTo(state);
    }

    /** The runc exec processes running under this test's roots. */
    private static List<Long> runtimeProcesses() throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.toList()) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = Files.readString(proc.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains("--root=" + DIR) && cmdline.contains(" exec ")
                            && !Processes.isGone(Long.parseLong(name))) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return pids;
    }

    /** Resizes travel as SIGWINCH through runc; give the shell's next stty a moment. */
    private static void awaitResized() throws InterruptedException {
        Thread.sleep(200);
    }

    private URI oneStep(String container, String flags, String... command) {
        String query = Arrays.stream(command).map(c -> "command=" + URLEncoder.encode(c, StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return URI.create("ws://127.0.0.1:" + port + "/api/v1/containers/" + container + "/exec?" + query
                + (flags.isEmpty() ? "" : "&" + flags));
    }

    private String newestExec() {
        return api.get("/api/v1/execs?limit=1").expect(200).get(0).path("id").asString();
    }

    private static JsonNode status(ChannelClient client) {
        assertThat(client.statuses()).hasSize(1);
        return JSON.readTree(client.statuses().getFirst());
    }


    private static long execDirs(Path work) throws IOException {
        if (!Files.isDirectory(work)) {
            return 0;
        }
        try (Stream<Path> dirs = Files.list(work)) {
            return dirs.count();
        }
    }
}
