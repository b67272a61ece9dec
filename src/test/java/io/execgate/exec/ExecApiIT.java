package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;

import io.execgate.support.Api;
import io.execgate.support.Api.Response;
import io.execgate.support.Processes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** Every exec endpoint and error code over real HTTP, against real processes on this host. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class ExecApiIT {

    @Autowired
    RestTestClient http;
    @org.springframework.boot.test.web.server.LocalServerPort
    int port;
    Api api;

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void theHostDescribesItselfAndItsBackends() {
        JsonNode host = api.get("/api/v1/host").expect(200);
        assertThat(host.path("os").asString()).isEqualTo("linux");
        assertThat(host.path("id").asString()).isNotBlank();
        JsonNode local = host.path("backends").get(0);
        assertThat(local.path("name").asString()).isEqualTo("local");
        assertThat(local.path("kind").asString()).isEqualTo("host");
        assertThat(local.path("available").asBoolean()).isTrue();
    }

    @Test
    void runReportsExitCodesAndOutput() {
        for (int code : new int[] {0, 3, 255}) {
            JsonNode result = api.run("""
                    {"command": ["sh", "-c", "echo out; echo err >&2; exit %d"]}""".formatted(code));
            assertThat(result.path("exitCode").asInt()).isEqualTo(code);
            assertThat(result.path("stdout").asString()).isEqualTo("out\n");
            assertThat(result.path("stderr").asString()).isEqualTo("err\n");
            assertThat(result.path("encoding").asString()).isEqualTo("utf-8");
            JsonNode exec = result.path("exec");
            assertThat(exec.path("state").asString()).isEqualTo("exited");
            assertThat(exec.path("reason").asString()).isEqualTo("exited");
            assertThat(exec.path("exitCode").asInt()).isEqualTo(code);
            assertThat(exec.path("signal").isNull()).isTrue();
            assertThat(exec.path("stdoutBytes").asLong()).isEqualTo(4);
        }
    }

    @Test
    void aProcessKilledBySigkillReportsTheSignal() {
        JsonNode result = api.run("""
                {"command": ["sh", "-c", "kill -9 $$"]}""");
        assertThat(result.path("exitCode").asInt()).isEqualTo(137);
        assertThat(result.path("exec").path("signal").asString()).isEqualTo("SIGKILL");
        assertThat(result.path("exec").path("reason").asString()).isEqualTo("killed");
    }

    @Test
    void aTimeoutTerminatesTheProcessAndStillAnswers200() {
        long started = System.nanoTime();
        JsonNode result = api.run("""
                {"command": ["sleep", "60"], "timeoutSeconds": 1}""");
        assertThat((System.nanoTime() - started) / 1_000_000_000).isLessThan(20);
        JsonNode exec = result.path("exec");
        assertThat(exec.path("reason").asString()).isEqualTo("timeout");
        assertThat(exec.path("signal").asString()).isEqualTo("SIGTERM");
        assertThat(result.path("exitCode").asInt()).isEqualTo(143);
        assertThat(Processes.isGone(exec.path("pid").asLong())).isTrue();
    }

    @Test
    void inputIsFedToStdinWhichIsThenClosed() {
        assertThat(api.run("""
                {"command": ["cat"], "input": "héllo\\nwörld\\n"}""").path("stdout").asString()).isEqualTo("héllo\nwörld\n");
        // larger than a pipe's buffer: the writer must keep pace with the reader
        String big = "x".repeat(300_000);
        assertThat(api.run("""
                {"command": ["wc", "-c"], "input": "%s"}""".formatted(big)).path("stdout").asString().strip())
                .isEqualTo("300000");
        assertThat(api.run("""
                {"command": ["wc", "-c"], "stdin": true}""").path("stdout").asString().strip()).isEqualTo("0");
    }

    @Test
    void largeOutputIsTruncatedToMaxOutputBytesWithoutHanging() {
        JsonNode result = api.run("""
                {"command": ["sh", "-c", "head -c 5242880 /dev/zero | tr '\\\\0' x"], "maxOutputBytes": 1048576}""");
        assertThat(result.path("exitCode").asInt()).isZero();
        assertThat(result.path("stdoutTruncated").asBoolean()).isTrue();
        assertThat(result.path("stderrTruncated").asBoolean()).isFalse();
        assertThat(result.path("stdout").asString()).hasSize(1048576).matches("x+");
        assertThat(result.path("exec").path("stdoutBytes").asLong()).isEqualTo(5242880);
        assertThat(result.path("exec").path("stdoutDroppedBytes").asLong()).isEqualTo(5242880 - 1048576);
    }

    @Test
    void outputThatIsNotUtf8ComesAsBase64() {
        JsonNode result = api.run("""
                {"command": ["printf", "\\\\377\\\\376"]}""");
        assertThat(result.path("encoding").asString()).isEqualTo("base64");
        assertThat(result.path("stdout").asString()).isEqualTo("//4=");
    }

    @Test
    void aCommandThatDoesNotExistFailsToStartAndIsRecorded() {
        Response response = api.post("/api/v1/host/execs/run", """
                {"command": ["no-such-command"]}""").isProblem(422, "EXEC_START_FAILED");
        assertThat(response.json().path("detail").asString()).contains("executable file not found");
        String id = response.json().path("execId").asString();
        JsonNode exec = api.get("/api/v1/execs/" + id).expect(200);
        assertThat(exec.path("state").asString()).isEqualTo("failed");
        assertThat(exec.path("reason").asString()).isEqualTo("start-failed");
        assertThat(exec.path("exitCode").asInt()).isEqualTo(127);
        assertThat(exec.path("error").asString()).contains("no-such-command");
        assertThat(exec.path("pid").isNull()).isTrue();
        JsonNode exit = api.get("/api/v1/execs/" + id + "/exit").expect(200);
        assertThat(exit.path("exited").asBoolean()).isTrue();
        assertThat(exit.path("exitCode").asInt()).isEqualTo(127);
    }

    @Test
    void otherStartFailuresSayWhy() {
        assertThat(api.post("/api/v1/host/execs", """
                {"command": ["/etc/passwd"]}""").isProblem(422, "EXEC_START_FAILED").json().path("detail").asString())
                .contains("permission denied");
        assertThat(api.post("/api/v1/host/execs", """
                {"command": ["pwd"], "workingDir": "/no/such/dir"}""").isProblem(422, "EXEC_START_FAILED").json()
                .path("detail").asString()).contains("/no/such/dir");
        assertThat(api.post("/api/v1/host/execs", """
                {"command": ["id"], "user": "no-such-user"}""").isProblem(422, "EXEC_START_FAILED").json()
                .path("detail").asString()).contains("unable to find user no-such-user");
    }

    @Test
    void aTerminalExecHasItsSizeMergesStderrAndCanBeResized() {
        JsonNode result = api.run("""
                {"command": ["sh", "-c", "stty size; echo err >&2; tty"], "tty": true,
                 "consoleSize": {"width": 100, "height": 40}}""");
        assertThat(result.path("stdout").asString()).startsWith("40 100\r\nerr\r\n/dev/pts/");
        assertThat(result.path("stderr").asString()).isEmpty();
        assertThat(result.path("exec").path("tty").asBoolean()).isTrue();

        String id = api.create("""
                {"command": ["sh", "-c", "read a; stty size"], "tty": true, "stdin": true}""").path("id").asString();
        assertThat(api.post("/api/v1/execs/" + id + "/resize", "{\"width\": 132, \"height\": 43}").status()).isEqualTo(204);
        assertThat(api.post("/api/v1/execs/" + id + "/close-stdin", null).status()).isEqualTo(204);
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
        assertThat(api.get("/api/v1/execs/" + id + "/output").text()).endsWith("43 132\r\n");
    }

    @Test
    void anExecIsCreatedWaitedForAndItsOutputRead() throws Exception {
        Response created = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "echo out; echo err >&2; sleep 1; exit 4"], "env": ["GREETING=hi"]}""");
        JsonNode exec = created.expect(201);
        String id = exec.path("id").asString();
        assertThat(id).startsWith("e_");
        assertThat(created.headers().getLocation()).hasToString("/api/v1/execs/" + id);
        assertThat(exec.path("state").asString()).isEqualTo("running");
        assertThat(exec.path("pid").asLong()).isPositive();
        assertThat(exec.path("exitCode").isNull()).isTrue();
        assertThat(exec.path("links").path("exit").asString()).isEqualTo("/api/v1/execs/" + id + "/exit");

        JsonNode pending = api.get("/api/v1/execs/" + id + "/exit").expect(200);
        assertThat(pending.path("exited").asBoolean()).isFalse();
        assertThat(pending.path("exitCode").isNull()).isTrue();

        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("exitCode").asInt()).isEqualTo(4);
        assertThat(exit.path("reason").asString()).isEqualTo("exited");
        assertThat(exit.path("exitedAt").asString()).isNotBlank();

        Response stdout = api.get("/api/v1/execs/" + id + "/output");
        assertThat(stdout.status()).isEqualTo(200);
        assertThat(stdout.headers().getContentType()).hasToString("application/octet-stream");
        assertThat(stdout.text()).isEqualTo("out\n");
        assertThat(api.get("/api/v1/execs/" + id + "/output?stream=stderr").text()).isEqualTo("err\n");
        api.get("/api/v1/execs/" + id + "/output?stream=stdin").isProblem(400, "INVALID_REQUEST");

        JsonNode ended = api.get("/api/v1/execs/" + id).expect(200);
        assertThat(ended.path("state").asString()).isEqualTo("exited");
        assertThat(ended.path("stdoutBytes").asLong()).isEqualTo(4);
        assertThat(ended.path("stderrBytes").asLong()).isEqualTo(4);
        assertThat(ended.path("startedAt").asString()).isNotBlank();
    }

    @Test
    void theListFiltersByTargetAndStateNewestFirst() {
        String running = api.create("""
                {"command": ["sleep", "30"]}""").path("id").asString();
        String done = api.run("""
                {"command": ["true"]}""").path("exec").path("id").asString();
        try {
            assertThat(ids(api.get("/api/v1/execs?target=host").expect(200))).containsSubsequence(done, running);
            assertThat(ids(api.get("/api/v1/execs?state=running").expect(200))).contains(running).doesNotContain(done);
            assertThat(ids(api.get("/api/v1/execs?state=exited&target=host").expect(200))).contains(done)
                    .doesNotContain(running);
            assertThat(ids(api.get("/api/v1/execs?target=container").expect(200))).isEmpty();
            assertThat(ids(api.get("/api/v1/execs?target=container/" + running).expect(200))).isEmpty();
            assertThat(ids(api.get("/api/v1/execs?limit=1").expect(200))).containsExactly(done);
            api.get("/api/v1/execs?target=pod").isProblem(400, "INVALID_REQUEST");
        } finally {
            api.delete("/api/v1/execs/" + running);
        }
    }

    @Test
    void signalsReachTheProcessAndControlsOnAnEndedExecAre409() {
        String id = api.create("""
                {"command": ["sleep", "60"]}""").path("id").asString();
        api.post("/api/v1/execs/" + id + "/resize", """
                {"width": 100, "height": 30}""").isProblem(409, "NOT_A_TTY");
        assertThat(api.post("/api/v1/execs/" + id + "/signal", """
                {"signal": "SIGTERM"}""").status()).isEqualTo(202);
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("signal").asString()).isEqualTo("SIGTERM");
        assertThat(exit.path("exitCode").asInt()).isEqualTo(143);
        assertThat(exit.path("reason").asString()).isEqualTo("killed");

        api.post("/api/v1/execs/" + id + "/signal", """
                {"signal": "KILL"}""").isProblem(409, "EXEC_NOT_RUNNING");
        api.post("/api/v1/execs/" + id + "/close-stdin", null).isProblem(409, "EXEC_NOT_RUNNING");
        api.post("/api/v1/execs/" + id + "/resize", """
                {"width": 100, "height": 30}""").isProblem(409, "EXEC_NOT_RUNNING");
        api.post("/api/v1/execs/" + id + "/signal", """
                {"signal": "SIGBOGUS"}""").isProblem(400, "INVALID_REQUEST");
    }

    @Test
    void closeStdinLetsAReaderFinish() {
        String id = api.create("""
                {"command": ["sh", "-c", "cat; echo eof"], "stdin": true}""").path("id").asString();
        assertThat(api.post("/api/v1/execs/" + id + "/close-stdin", null).status()).isEqualTo(204);
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
        assertThat(api.get("/api/v1/execs/" + id + "/output").text()).isEqualTo("eof\n");
    }

    @Test
    void deleteTerminatesARunningExecAndRemovesIt() throws Exception {
        JsonNode exec = api.create("""
                {"command": ["sh", "-c", "sleep 60 & wait"]}""");
        String id = exec.path("id").asString();
        long pid = exec.path("pid").asLong();
        assertThat(Processes.isGone(pid)).isFalse();
        assertThat(api.delete("/api/v1/execs/" + id).status()).isEqualTo(204);
        api.get("/api/v1/execs/" + id).isProblem(404, "EXEC_NOT_FOUND");
        api.delete("/api/v1/execs/" + id).isProblem(404, "EXEC_NOT_FOUND");
        assertThat(Processes.awaitGone(pid, 10_000)).as("the process is gone after DELETE").isTrue();
    }

    @Test
    void deletingOrTimingOutATerminalExecEndsTheJobsOfItsShell() throws Exception {
        // An interactive shell on a terminal ignores SIGTERM and runs each job in a process group of its own.
        JsonNode deleted = startJobs("{\"command\": [\"bash\", \"--norc\", \"-i\", \"-c\", \"sleep 300 & sleep 300\"], "
                + "\"tty\": true}");
        long pid = deleted.path("pid").asLong();
        try {
            assertThat(api.delete("/api/v1/execs/" + deleted.path("id").asString()).status()).isEqualTo(204);
            assertThat(Processes.awaitSessionGone(pid, 5_000)).as("the exec's session after DELETE").isEmpty();
        } finally {
            Processes.killSession(pid);
        }

        JsonNode timedOut = startJobs("{\"command\": [\"bash\", \"--norc\", \"-i\", \"-c\", "
                + "\"sleep 300 & sleep 300\"], \"tty\": true, \"timeoutSeconds\": 2}");
        pid = timedOut.path("pid").asLong();
        try {
            JsonNode exit = api.awaitExit(timedOut.path("id").asString());
            assertThat(exit.path("reason").asString()).isEqualTo("timeout");
            assertThat(exit.path("signal").asString()).as("the shell hung up").isEqualTo("SIGHUP");
            assertThat(Processes.awaitSessionGone(pid, 5_000)).as("the exec's session after its timeout").isEmpty();
        } finally {
            Processes.killSession(pid);
        }
    }

    /** Creates the exec and waits until its shell runs both jobs. */
    private JsonNode startJobs(String request) throws Exception {
        assumeTrue(java.nio.file.Files.isExecutable(java.nio.file.Path.of("/bin/bash")), "needs bash");
        JsonNode exec = api.create(request);
        long pid = exec.path("pid").asLong();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Processes.sessionMembers(pid).size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Processes.sessionMembers(pid)).as("the shell and its two jobs").hasSize(3);
        return exec;
    }

    @Test
    void deletingAnEndedExecRemovesItsRecord() {
        String id = api.run("""
                {"command": ["true"]}""").path("exec").path("id").asString();
        assertThat(api.delete("/api/v1/execs/" + id).status()).isEqualTo(204);
        api.get("/api/v1/execs/" + id + "/exit").isProblem(404, "EXEC_NOT_FOUND");
    }

    @Test
    void unknownExecsAre404OnEveryEndpoint() {
        String unknown = "/api/v1/execs/e_doesnotexist";
        api.get(unknown).isProblem(404, "EXEC_NOT_FOUND");
        api.get(unknown + "/exit?wait=PT1S").isProblem(404, "EXEC_NOT_FOUND");
        api.get(unknown + "/output").isProblem(404, "EXEC_NOT_FOUND");
        api.post(unknown + "/signal", "{\"signal\": \"TERM\"}").isProblem(404, "EXEC_NOT_FOUND");
        api.post(unknown + "/resize", "{\"width\": 1, \"height\": 1}").isProblem(404, "EXEC_NOT_FOUND");
        api.post(unknown + "/close-stdin", null).isProblem(404, "EXEC_NOT_FOUND");
        api.delete(unknown).isProblem(404, "EXEC_NOT_FOUND");
    }

    @Test
    void containersAndUvmsAreEmptyUntilTheirBackendsExist() {
        assertThat(api.get("/api/v1/containers").expect(200).isEmpty()).isTrue();
        assertThat(api.get("/api/v1/uvms").expect(200).isEmpty()).isTrue();
        api.get("/api/v1/containers/ctr1").isProblem(404, "TARGET_NOT_FOUND");
        api.get("/api/v1/uvms/uvm1").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/containers/ctr1/execs", "{\"command\": [\"ls\"]}").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/containers/ctr1/execs/run", "{\"command\": [\"ls\"]}").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/uvms/uvm1/execs", "{\"command\": [\"ls\"]}").isProblem(404, "TARGET_NOT_FOUND");
        api.post("/api/v1/uvms/uvm1/execs/run", "{\"command\": [\"ls\"]}").isProblem(404, "TARGET_NOT_FOUND");
    }

    @Test
    void badRequestsNameWhatIsWrong() {
        api.post("/api/v1/host/execs", "{\"command\": [\"ls\"").isProblem(400, "INVALID_REQUEST");
        assertThat(api.post("/api/v1/host/execs", "{\"command\": [\"ls\"], \"colour\": true}")
                .isProblem(400, "INVALID_REQUEST").json().path("errors").get(0).path("field").asString()).isEqualTo("colour");
        api.post("/api/v1/host/execs", "{\"command\": []}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/host/execs", "{\"command\": [\"\"]}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/host/execs", "{\"command\": [\"ls\"], \"env\": [\"=1\"]}").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/host/execs", "{\"command\": [\"ls\\u0000\"]}").isProblem(400, "INVALID_REQUEST");
        api.get("/api/v1/execs/e_x/exit?wait=forever").isProblem(400, "INVALID_REQUEST");
        api.get("/api/v1/nowhere").isProblem(404, "NOT_FOUND");
        // JSON can carry a lone surrogate, which has no UTF-8 form for a process to receive
        assertThat(api.post("/api/v1/host/execs", "{\"command\": [\"echo\", \"\\ud800\"]}")
                .isProblem(400, "INVALID_REQUEST").json().path("errors").get(0).path("field").asString()).isEqualTo("command[1]");
        api.post("/api/v1/host/execs", "{\"command\": [\"pwd\"], \"workingDir\": \"/\\udc00\"}")
                .isProblem(400, "INVALID_REQUEST");
    }

    @Test
    void runToCompletionRefusesUpstreamIoButTakesItsEmptyForm() {
        assertThat(api.post("/api/v1/host/execs/run", """
                {"command": ["true"], "io": {"stdout": "/run/some.fifo"}}""").isProblem(400, "INVALID_REQUEST").json()
                .path("errors").get(0).path("field").asString()).isEqualTo("io");
        assertThat(api.run("""
                {"command": ["true"], "io": {"stdin": null, "stdout": null, "stderr": null}}""").path("exitCode").asInt())
                .isZero();
    }

    @Test
    void commandsRunAsTheUserAsked() {
        assumeTrue("root".equals(System.getProperty("user.name")), "switching users needs root");
        JsonNode result = api.run("""
                {"command": ["sh", "-c", "id -u; id -g; echo $HOME"], "user": "nobody"}""");
        List<String> lines = result.path("stdout").asString().lines().toList();
        assertThat(lines.subList(0, 2)).containsExactly("65534", "65534");
        assertThat(lines.get(2)).isEqualTo("/nonexistent");
        assertThat(api.run("""
                {"command": ["id", "-u"], "user": "4242:4242"}""").path("stdout").asString()).isEqualTo("4242\n");
    }

    @Test
    void aCommandRunAsAnotherUserCanOpenItsOwnStreamsAndTerminal() {
        assumeTrue("root".equals(System.getProperty("user.name")), "switching users needs root");
        JsonNode pipes = api.run("""
                {"command": ["sh", "-c", "cat /dev/stdin; echo via-devstdout > /dev/stdout; echo via-devstderr > /dev/stderr; \
                stat -L -c '%U %a' /proc/self/fd/1"], "user": "nobody", "input": "via-devstdin\\n"}""");
        assertThat(pipes.path("stdout").asString()).isEqualTo("via-devstdin\nvia-devstdout\nnobody 600\n");
        assertThat(pipes.path("stderr").asString()).isEqualTo("via-devstderr\n");
        assertThat(pipes.path("exitCode").asInt()).isZero();

        JsonNode terminal = api.run("""
                {"command": ["sh", "-c", "stat -c %U $(tty); echo via-devtty > /dev/tty"], "user": "nobody", "tty": true}""");
        assertThat(terminal.path("stdout").asString()).isEqualTo("nobody\r\nvia-devtty\r\n");
        assertThat(terminal.path("exitCode").asInt()).isZero();
    }

    @Test
    void eachExecLeavesAJfrEventWithItsPhases() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("exec-life", ".jfr");
        String id;
        String failedId;
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("io.execgate.ExecLife");
            recording.start();
            id = api.run("""
                    {"command": ["sh", "-c", "sleep 0.3; exit 3"]}""").path("exec").path("id").asString();
            failedId = api.post("/api/v1/host/execs", """
                    {"command": ["no-such-command"]}""").isProblem(422, "EXEC_START_FAILED").json().path("execId")
                    .asString();
            recording.stop();
            recording.dump(file);
        }
        try {
            List<jdk.jfr.consumer.RecordedEvent> events = jdk.jfr.consumer.RecordingFile.readAllEvents(file);
            jdk.jfr.consumer.RecordedEvent ran = events.stream().filter(e -> id.equals(e.getString("execId")))
                    .findFirst().orElseThrow();
            assertThat(ran.getString("target")).isEqualTo("host/" + api.get("/api/v1/host").expect(200).path("id")
                    .asString());
            assertThat(ran.getInt("exitCode")).isEqualTo(3);
            assertThat(ran.getString("reason")).isEqualTo("exited");
            // run starts when the spawn returns, by when the child may have begun its sleep: the two hold it
            assertThat(ran.getDuration("spawn").plus(ran.getDuration("run"))).as("the process slept 0.3 s")
                    .isGreaterThanOrEqualTo(java.time.Duration.ofMillis(300));
            assertThat(ran.getDuration("spawn")).isPositive();
            assertThat(ran.getDuration("admit")).isPositive();
            assertThat(ran.getDuration("record")).isPositive();
            assertThat(ran.getDuration()).as("the whole life holds its phases").isGreaterThanOrEqualTo(
                    ran.getDuration("admit").plus(ran.getDuration("spawn")).plus(ran.getDuration("run"))
                            .plus(ran.getDuration("drain")));
            jdk.jfr.consumer.RecordedEvent failed = events.stream().filter(e -> failedId.equals(e.getString("execId")))
                    .findFirst().orElseThrow();
            assertThat(failed.getString("reason")).isEqualTo("start-failed");
            assertThat(failed.getInt("exitCode")).isEqualTo(127);
            assertThat(failed.getDuration("run")).as("a start that failed has no run").isZero();
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    /**
     * Exit waits and runs to completion block their request's thread until the exec ends: they must park virtual
     * threads, or 300 of them would take every one of Tomcat's 200 platform threads and stall the service.
     */
    @Test
    void manyWaitersParkWithoutStallingOtherRequests() throws Exception {
        String id = api.create("""
                {"command": ["cat"], "stdin": true}""").path("id").asString();
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        try {
            List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> waits = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                waits.add(client.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + port + "/api/v1/execs/" + id + "/exit?wait=PT60S"))
                        .header("Authorization", "Bearer " + Api.ADMIN_TOKEN).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()));
            }
            // all 300 are inside the service at once (on platform threads only 200 would be, the rest queued)
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (activeExitWaits() < 301) {
                assertThat(System.nanoTime()).as("300 exit waits in the service at once").isLessThan(deadline);
                Thread.sleep(100);
            }
            java.net.http.HttpResponse<String> host = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/api/v1/host"))
                    .header("Authorization", "Bearer " + Api.ADMIN_TOKEN).timeout(java.time.Duration.ofSeconds(10))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(host.statusCode()).as("a request while 300 waits are parked").isEqualTo(200);
            assertThat(waits).noneMatch(java.util.concurrent.CompletableFuture::isDone);

            api.post("/api/v1/execs/" + id + "/close-stdin", "").expect(204);
            for (var wait : waits) {
                java.net.http.HttpResponse<String> response = wait.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).contains("\"exited\":true").contains("\"exitCode\":0");
            }
        } finally {
            client.shutdownNow(); // close() would wait for whatever is still pending
            api.delete("/api/v1/execs/" + id);
        }
    }

    /**
     * Requests being served now (this scrape among them), from the {@code http.server.requests.active} meter: its
     * uri tag is not known yet while a request runs, so every active request counts.
     */
    private long activeExitWaits() {
        String metrics = http.get().uri("/actuator/prometheus").header("Authorization", "Bearer " + Api.ADMIN_TOKEN)
                .exchange().expectStatus().isOk().returnResult(String.class).getResponseBody();
        return metrics.lines().filter(line -> line.startsWith("http_server_requests_active_seconds_count{"))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    private static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.forEach(e -> ids.add(e.path("id").asString()));
        return ids;
    }
}
