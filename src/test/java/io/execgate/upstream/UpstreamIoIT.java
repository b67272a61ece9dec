package io.execgate.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.Processes;
import io.execgate.support.TestContainers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * Upstream IO over the API with real FIFOs, real processes and a real logging driver (a shell script): output
 * into FIFOs the test reads, a reader that leaves and comes back, a retry budget that runs out, stdin from a
 * FIFO, the driver contract and its failures, listen mode; nothing left behind.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.upstream.connect-timeout=2s",
        "execgate.upstream.driver-ready-timeout=2s",
        "execgate.upstream.driver-stop-timeout=6s",
        // long enough for a DELETE after the process's exit to come within it, on a busy machine too
        "execgate.exec.copy-after-exit-timeout=3s"})
@AutoConfigureRestTestClient
@DirtiesContext
class UpstreamIoIT {

    private static final Path DATA = tempDir();

    @Autowired
    RestTestClient http;
    @Autowired
    Upstreams upstreams;
    @LocalServerPort
    int port;
    Api api;
    @TempDir
    Path dir;
    private final ExecutorService clients = Executors.newCachedThreadPool();

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) {
        registry.add("execgate.data-dir", DATA::toString);
    }

    /** The context is closed after this class ({@link DirtiesContext}), so its data directory can go. */
    @AfterAll
    static void removeDataDir() throws IOException {
        org.springframework.util.FileSystemUtils.deleteRecursively(DATA);
    }

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @AfterEach
    void nothingIsLeftBehind() throws Exception {
        clients.shutdownNow();
        Path made = DATA.resolve("upstream");
        long deadline = System.currentTimeMillis() + 10_000;
        while ((entries(made) > 0 || upstreams.openCount() > 0) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(entries(made)).as("private directories left under %s", made).isZero();
        assertThat(upstreams.openCount()).as("upstream connections left open").isZero();
    }

    @Test
    void stdoutAndStderrGoIntoFifosAndAreCountedNotRetained() throws Exception {
        Path out = fifo("out");
        Path err = fifo("err");
        CompletableFuture<String> stdout = readAll(out);
        CompletableFuture<String> stderr = readAll(err);
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "echo out; echo err >&2; exit 3"], "io": {"stdout": "%s", "stderr": "%s"}}"""
                .formatted(out, err)).expect(201);
        String id = exec.path("id").asString();
        assertThat(exec.path("io").path("stdoutPath").asString()).isEqualTo(out.toString());
        assertThat(exec.path("io").path("stdinPath").isNull()).isTrue();
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isEqualTo(3);
        assertThat(stdout.get(10, TimeUnit.SECONDS)).isEqualTo("out\n");
        assertThat(stderr.get(10, TimeUnit.SECONDS)).isEqualTo("err\n");
        JsonNode ended = api.get("/api/v1/execs/" + id).expect(200);
        assertThat(ended.path("stdoutBytes").asLong()).isEqualTo(4);
        assertThat(ended.path("stderrBytes").asLong()).isEqualTo(4);
        assertThat(api.get("/api/v1/execs/" + id + "/output?stream=stdout").body()).isEmpty();
    }

    @Test
    void aReaderThatLeavesAndComesBackMissesNoByteAndGetsNoneTwice() throws Exception {
        Path out = fifo("out");
        String expected = IntStream.range(0, 20_000).mapToObj(i -> i + "\n").collect(Collectors.joining());
        CompletableFuture<byte[]> firstPart = readFirst(out, 10_000); // then leaves, with more in the FIFO
        String id = api.post("/api/v1/host/execs", """
                {"command": ["seq", "0", "19999"], "io": {"stdout": "%s", "retryTimeoutSeconds": 30}}"""
                .formatted(out)).expect(201).path("id").asString();
        byte[] head = firstPart.get(10, TimeUnit.SECONDS);
        Thread.sleep(700); // the writer meets the closed FIFO and waits for a new reader
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("state").asString()).isEqualTo("running");
        String tail = readAll(out).get(20, TimeUnit.SECONDS);
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
        assertThat(new String(head, StandardCharsets.US_ASCII) + tail).isEqualTo(expected);
    }

    /** A reader that restarts may remove and make its FIFO again: the path missing for a moment is waited out too. */
    @Test
    void aReaderThatMakesItsFifoAgainGetsTheRest() throws Exception {
        Path out = fifo("out");
        CompletableFuture<byte[]> first = readFirst(out, 2); // "a\n", then leaves
        String id = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "echo a; sleep 1; echo b"], "io": {"stdout": "%s", "retryTimeoutSeconds": 10}}"""
                .formatted(out)).expect(201).path("id").asString();
        assertThat(new String(first.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII)).isEqualTo("a\n");
        Files.delete(out); // the reader's restart: gone for a while, then a new FIFO by the same name
        Thread.sleep(1_500); // "b" meets the closed FIFO, and the reopening finds no path
        fifo("out");
        assertThat(readAll(out).get(20, TimeUnit.SECONDS)).isEqualTo("b\n");
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
    }

    @Test
    void whenTheRetryBudgetRunsOutTheRestIsDiscardedAndTheExecStillEnds() throws Exception {
        Path out = fifo("out");
        CompletableFuture<byte[]> head = readFirst(out, 1000);
        long started = System.nanoTime();
        String id = api.post("/api/v1/host/execs", """
                {"command": ["seq", "1", "300000"], "io": {"stdout": "%s", "retryTimeoutSeconds": 1}}"""
                .formatted(out)).expect(201).path("id").asString();
        assertThat(head.get(10, TimeUnit.SECONDS)).hasSize(1000);
        JsonNode exit = api.awaitExit(id);
        assertThat(exit.path("exitCode").asInt()).isZero();
        assertThat((System.nanoTime() - started) / 1_000_000).as("ended after the one-second budget")
                .isGreaterThanOrEqualTo(1000);
        long total = IntStream.rangeClosed(1, 300_000).mapToLong(i -> Integer.toString(i).length() + 1).sum();
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("stdoutBytes").asLong())
                .as("every byte counted, though not delivered").isEqualTo(total);
    }

    @Test
    void stdinComesFromAFifoAndItsEndClosesTheProcesssStdin() throws Exception {
        Path in = fifo("in");
        Path out = fifo("out");
        CompletableFuture<String> stdout = readAll(out);
        String id = api.post("/api/v1/host/execs", """
                {"command": ["tr", "a-z", "A-Z"], "io": {"stdin": "%s", "stdout": "%s"}}""".formatted(in, out))
                .expect(201).path("id").asString();
        try (OutputStream writer = new FileOutputStream(in.toFile())) {
            writer.write("through a fifo\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(stdout.get(10, TimeUnit.SECONDS)).isEqualTo("THROUGH A FIFO\n");
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
    }

    @Test
    void aMissingFifoOrOneNobodyReadsFailsTheStartAndBadIoIs400() throws Exception {
        Api.Response missing = api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "%s"}}""".formatted(dir.resolve("nope")))
                .isProblem(422, "EXEC_START_FAILED");
        assertThat(missing.json().path("detail").asString()).contains("does not exist");
        Path unread = fifo("unread");
        Api.Response noReader = api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "%s"}}""".formatted(unread)).isProblem(422, "EXEC_START_FAILED");
        assertThat(noReader.json().path("detail").asString()).contains("reader");
        JsonNode failed = api.get("/api/v1/execs/" + noReader.json().path("execId").asString()).expect(200);
        assertThat(failed.path("state").asString()).isEqualTo("failed");
        assertThat(failed.path("pid").isNull()).as("the command never started").isTrue();

        assertThat(api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "listen", "stderr": "/run/x"}}""")
                .isProblem(400, "INVALID_REQUEST").json().path("errors").get(0).path("field").asString())
                .isEqualTo("io.stderr");
        api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "binary://somehost/logger"}}""").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/host/execs", """
                {"command": ["true"], "stdin": true, "io": {"stdin": "/run/x"}}""").isProblem(400, "INVALID_REQUEST");
        api.post("/api/v1/host/execs", """
                {"command": ["true"], "tty": true, "io": {"stderr": "/run/x"}}""").isProblem(400, "INVALID_REQUEST");
    }

    /** A driver may open its pipes after it signalled ready, in any order: nothing the command wrote is lost. */
    @Test
    void aLoggingDriverThatOpensItsPipesLateStillGetsAllTheOutput() throws Exception {
        Path driver = script("late", """
                #!/bin/sh
                d=$(dirname "$0")
                : > "$CONTAINER_WAIT"
                sleep 1
                cat "$CONTAINER_STDERR" > "$d/late-stderr"
                cat "$CONTAINER_STDOUT" > "$d/late-stdout"
                """);
        runThroughDriver(driver, "echo quick; echo quicker >&2");
        awaitFile(dir.resolve("late-stderr"), "quicker\n");
        awaitFile(dir.resolve("late-stdout"), "quick\n");
    }

    @Test
    void aLoggingDriverGetsTheContractsEnvironmentArgumentsAndBothStreams() throws Exception {
        Path driver = script("driver", """
                #!/bin/sh
                d=$(dirname "$0")
                env > "$d/env"
                echo "$@" > "$d/args"
                cat "$CONTAINER_STDOUT" > "$d/stdout" &
                cat "$CONTAINER_STDERR" > "$d/stderr" &
                : > "$CONTAINER_WAIT"
                wait
                """);
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "echo to-stdout; echo to-stderr >&2"],
                 "io": {"stdout": "binary://%s?-v&tag=web&-a=1"}}""".formatted(driver)).expect(201);
        String id = exec.path("id").asString();
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
        awaitFile(dir.resolve("stdout"), "to-stdout\n");
        awaitFile(dir.resolve("stderr"), "to-stderr\n");
        List<String> env = Files.readAllLines(dir.resolve("env")).stream()
                .filter(line -> !line.startsWith("PWD=") && !line.startsWith("SHLVL=") && !line.startsWith("_=")
                        && !line.startsWith("OLDPWD="))
                .sorted().toList();
        Path fifos = DATA.resolve("upstream").resolve(id).toAbsolutePath();
        assertThat(env).as("exactly the contract's variables, nothing of the service's").containsExactly(
                "CONTAINER_ID=" + id, "CONTAINER_NAMESPACE=execgate", "CONTAINER_STDERR=" + fifos.resolve("stderr"),
                "CONTAINER_STDOUT=" + fifos.resolve("stdout"), "CONTAINER_WAIT=" + fifos.resolve("wait"));
        assertThat(Files.readString(dir.resolve("args"))).as("keys sorted, each with its value").isEqualTo("-a 1 -v tag web\n");
        assertThat(exec.path("io").path("stdoutPath").asString()).isEqualTo(fifos.resolve("stdout").toString());
    }

    @Test
    void aDriverThatNeverSignalsExitsAtOnceOrDoesNotExistFailsTheStart() throws Exception {
        Path silent = script("silent", "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60\n");
        long started = System.nanoTime();
        assertThat(startFailure("binary://" + silent)).contains("not ready within");
        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(1500L, 10_000L);
        // killed at once, not after the stop timeout: it never became the exec's logger
        long pid = Long.parseLong(Files.readString(dir.resolve("pid")).strip());
        assertThat(Processes.awaitGone(pid, 3_000)).as("the silent driver was killed").isTrue();

        Path quitter = script("quitter", "#!/bin/sh\nexit 3\n");
        assertThat(startFailure("binary://" + quitter)).contains("exited with 3");
        assertThat(startFailure("binary://" + dir.resolve("absent"))).contains("does not exist");
    }

    @Test
    void listenMakesTheFifosAndStartsWhenTheClientHasOpenedThem() throws Exception {
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "read line; echo got $line"], "io": {"stdin": "listen", "stdout": "listen"}}""")
                .expect(201);
        String id = exec.path("id").asString();
        assertThat(exec.path("state").asString()).isEqualTo("created");
        Path stdinPath = Path.of(exec.path("io").path("stdinPath").asString());
        Path stdoutPath = Path.of(exec.path("io").path("stdoutPath").asString());
        assertThat(stdoutPath.getParent()).isEqualTo(DATA.resolve("upstream").resolve(id).toAbsolutePath());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(stdoutPath.getParent())))
                .isEqualTo("rwx------");
        assertThat(exec.path("io").path("stderrPath").isNull()).isTrue();

        CompletableFuture<String> stdout = readAll(stdoutPath);
        try (OutputStream writer = new FileOutputStream(stdinPath.toFile())) {
            writer.write("hello\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(stdout.get(10, TimeUnit.SECONDS)).isEqualTo("got hello\n");
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
    }

    @Test
    void listenWithoutAClientFailsAfterTheConnectTimeoutAndDeleteCancelsTheWait() throws Exception {
        String lonely = api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "listen"}}""").expect(201).path("id").asString();
        JsonNode exit = api.awaitExit(lonely);
        assertThat(exit.path("reason").asString()).isEqualTo("start-failed");
        assertThat(api.get("/api/v1/execs/" + lonely).expect(200).path("error").asString()).contains("reader");

        String deleted = api.post("/api/v1/host/execs", """
                {"command": ["true"], "io": {"stdout": "listen"}}""").expect(201).path("id").asString();
        api.delete("/api/v1/execs/" + deleted).expect(204);
    }

    @Test
    void aDriverThatOpensItsPipesFirstAsContainerdsDoStillGetsReady() throws Exception {
        Path driver = script("ordered", """
                #!/bin/sh
                d=$(dirname "$0")
                exec 3<"$CONTAINER_STDOUT"
                exec 4<"$CONTAINER_STDERR"
                : > "$CONTAINER_WAIT"
                cat <&3 > "$d/stdout" &
                cat <&4 > "$d/stderr" &
                wait
                """);
        runThroughDriver(driver, "echo first-out; echo first-err >&2");
        awaitFile(dir.resolve("stdout"), "first-out\n");
        awaitFile(dir.resolve("stderr"), "first-err\n");
    }

    @Test
    void onlyAFifoReachedWithoutLinksIsOpened() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path fifo = fifo("real/out");
        Path linkedDir = Files.createSymbolicLink(dir.resolve("linked"), real);
        Path plain = Files.writeString(dir.resolve("plain"), "precious");
        Path linkedFifo = Files.createSymbolicLink(dir.resolve("out-link"), fifo);
        CompletableFuture<String> reader = readAll(fifo); // a reader, so only the path decides
        for (Path path : List.of(linkedDir.resolve("out"), linkedFifo)) {
            assertThat(api.post("/api/v1/host/execs", """
                    {"command": ["echo", "x"], "io": {"stdout": "%s"}}""".formatted(path)).isProblem(422, "EXEC_START_FAILED")
                    .json().path("detail").asString()).as(path.toString()).containsAnyOf("symbolic link", "not a FIFO");
        }
        assertThat(api.post("/api/v1/host/execs", """
                {"command": ["echo", "x"], "io": {"stdout": "%s"}}""".formatted(plain)).isProblem(422, "EXEC_START_FAILED")
                .json().path("detail").asString()).contains("not a FIFO");
        assertThat(Files.readString(plain)).isEqualTo("precious");
        api.post("/api/v1/host/execs", """
                {"command": ["echo", "through"], "io": {"stdout": "%s"}}""".formatted(fifo)).expect(201);
        assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo("through\n");
    }

    @Test
    void anExecWhoseReaderLeftForGoodStillEndsWhenDeleted() throws Exception {
        Path out = fifo("out");
        CompletableFuture<byte[]> head = readFirst(out, 100);
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["seq", "1", "1000000"], "io": {"stdout": "%s"}}""".formatted(out)).expect(201);
        assertThat(head.get(10, TimeUnit.SECONDS)).hasSize(100);
        Thread.sleep(500); // the writer waits for a reader that never comes back, and the process for the writer
        String id = exec.path("id").asString();
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("state").asString()).isEqualTo("running");
        api.delete("/api/v1/execs/" + id).expect(204);
        assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).isTrue();
        long deadline = System.currentTimeMillis() + 10_000;
        while (upstreams.openCount() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(upstreams.openCount()).as("the exec ended and closed its upstream").isZero();
    }

    /** As an attachment that sees its stream close can: the exit is recorded before the FIFO's end of file. */
    @Test
    void aFifoReaderThatSeesItsEndOfFileCanReadTheExitStatus() throws Exception {
        for (int i = 0; i < 40; i++) {
            JsonNode exec = api.post("/api/v1/host/execs", """
                    {"command": ["echo", "hi"], "io": {"stdout": "listen"}}""").expect(201);
            String id = exec.path("id").asString();
            assertThat(readAll(Path.of(exec.path("io").path("stdoutPath").asString())).get(10, TimeUnit.SECONDS))
                    .isEqualTo("hi\n");
            JsonNode exit = api.get("/api/v1/execs/" + id + "/exit").expect(200);
            assertThat(exit.path("exited").asBoolean()).as("round %d: %s", i, exit).isTrue();
            assertThat(exit.path("exitCode").asInt()).isZero();
        }
    }

    /**
     * A DELETE of an exec whose process has exited while its reader is slow lets go of the FIFO only once the
     * process has had its copy-after-exit time (3 s here), not at once: the reader that comes within it gets it all.
     */
    @Test
    void aDeleteAfterTheProcessExitedLeavesTheSlowReaderItsCopyAfterExitTime() throws Exception {
        Path out = fifo("out");
        java.util.concurrent.CountDownLatch read = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<byte[]> slow = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = new FileInputStream(out.toFile())) { // opened now, read later
                read.await();
                return in.readAllBytes();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, clients);
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["head", "-c", "100000", "/dev/zero"], "io": {"stdout": "%s"}}""".formatted(out)).expect(201);
        String id = exec.path("id").asString();
        // 64 KiB in the FIFO, the rest in the process's pipe and the relay: the process exits, the exec drains
        assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).isTrue();
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("state").asString()).isEqualTo("running");
        api.delete("/api/v1/execs/" + id).expect(204);
        read.countDown();
        assertThat(slow.get(10, TimeUnit.SECONDS)).hasSize(100_000);
    }

    /** connect-timeout (2 s here) is the exec's, for stdout and stderr together, not each stream's in turn. */
    @Test
    void theConnectTimeoutIsOneDeadlineForBothStreams() throws Exception {
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "echo out; echo err >&2"], "io": {"stdout": "listen", "stderr": "listen"}}""")
                .expect(201);
        String id = exec.path("id").asString();
        Path stdoutPath = Path.of(exec.path("io").path("stdoutPath").asString());
        Path stderrPath = Path.of(exec.path("io").path("stderrPath").asString());
        Thread.sleep(1_500);
        CompletableFuture<String> stdout = readAll(stdoutPath); // in time
        Thread.sleep(1_300); // past the exec's 2 s, within stderr's own 2 s had it started at stdout's connect
        // Opened for reading and writing (never created), which does not wait, so the test cannot hang on a FIFO
        // nobody else opens; the path is gone once the start has failed.
        try (java.nio.channels.FileChannel late = java.nio.channels.FileChannel.open(stderrPath,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            assertThat(api.awaitExit(id).path("reason").asString()).isEqualTo("start-failed");
        } catch (java.nio.file.NoSuchFileException gone) {
            assertThat(api.awaitExit(id).path("reason").asString()).isEqualTo("start-failed");
        }
        assertThat(api.get("/api/v1/execs/" + id).expect(200).path("error").asString()).contains("reader");
        stdout.handle((text, error) -> null).get(10, TimeUnit.SECONDS); // its FIFO was closed with the failure
    }

    /**
     * A driver still in its stop time after its exec ended (it ignores the end of its input) is still the service's:
     * the shutdown kills it, where it used to be left running on its own.
     */
    @Test
    void theShutdownKillsADriverStillInItsStopTime() throws Exception {
        Path driver = script("lingering", """
                #!/bin/sh
                echo $$ > "$(dirname "$0")/lingering-pid"
                : > "$CONTAINER_WAIT"
                exec sleep 120
                """);
        runThroughDriver(driver, "echo hi");
        long pid = Long.parseLong(Files.readString(dir.resolve("lingering-pid")).strip());
        assertThat(Processes.awaitGone(pid, 500)).as("the driver has its stop time (6 s) to exit").isFalse();
        assertThat(upstreams.openCount()).as("a driver still running is still tracked").isEqualTo(1);
        upstreams.abortAll(); // what the service's shutdown calls, after the execs have ended
        assertThat(Processes.awaitGone(pid, 3_000)).as("the lingering driver was killed").isTrue();
    }

    /**
     * An attachment's input and its close of stdin, sent while the exec is still created (waiting for its listen
     * client), wait for the process to start instead of being lost.
     */
    @Test
    void anAttachmentsInputWaitsForAProcessStillToStart() throws Exception {
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["cat"], "stdin": true, "io": {"stdout": "listen"}}""").expect(201);
        String id = exec.path("id").asString();
        assertThat(exec.path("state").asString()).isEqualTo("created");
        ChannelClient client = ChannelClient.connect(URI.create("ws://127.0.0.1:" + port + "/api/v1/execs/" + id
                + "/attach?stdin=true"), ChannelClient.V5);
        try {
            client.stdin("early\n");
            client.closeStdin();
            Thread.sleep(300); // sent, while the exec still waits for its stdout client
            assertThat(api.get("/api/v1/execs/" + id).expect(200).path("state").asString()).isEqualTo("created");
            assertThat(readAll(Path.of(exec.path("io").path("stdoutPath").asString())).get(10, TimeUnit.SECONDS))
                    .as("cat got the input and its end").isEqualTo("early\n");
            assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
        } finally {
            client.abort();
            api.delete("/api/v1/execs/" + id);
        }
    }

    @Test
    void aListenClientMayOpenStdinFirst() throws Exception {
        JsonNode exec = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "read line; echo got $line"], "io": {"stdin": "listen", "stdout": "listen"}}""")
                .expect(201);
        Path stdinPath = Path.of(exec.path("io").path("stdinPath").asString());
        Path stdoutPath = Path.of(exec.path("io").path("stdoutPath").asString());
        try (OutputStream writer = new FileOutputStream(stdinPath.toFile())) { // opened before any reader of stdout
            writer.write("early\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(readAll(stdoutPath).get(10, TimeUnit.SECONDS)).isEqualTo("got early\n");
        assertThat(api.awaitExit(exec.path("id").asString()).path("exitCode").asInt()).isZero();
    }

    /** Runs {@code sh -c script} with the driver as its logging driver, and waits for it to exit 0. */
    private void runThroughDriver(Path driver, String script) {
        String id = api.post("/api/v1/host/execs", """
                {"command": ["sh", "-c", "%s"], "io": {"stdout": "binary://%s"}}""".formatted(script, driver))
                .expect(201).path("id").asString();
        assertThat(api.awaitExit(id).path("exitCode").asInt()).isZero();
    }

    private String startFailure(String uri) {
        return api.post("/api/v1/host/execs", """
                {"command": ["echo", "never"], "io": {"stdout": "%s"}}""".formatted(uri)).isProblem(422, "EXEC_START_FAILED")
                .json().path("detail").asString();
    }

    private Path fifo(String name) throws IOException {
        Path path = dir.resolve(name);
        TestContainers.run(List.of("mkfifo", "-m", "600", path.toString()));
        return path;
    }

    private Path script(String name, String text) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, text);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
        return path;
    }

    /** Reads the first {@code bytes} of a FIFO on another thread, then closes it: a reader that leaves. */
    private CompletableFuture<byte[]> readFirst(Path fifo, int bytes) {
        return CompletableFuture.supplyAsync(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                return in.readNBytes(bytes);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, clients);
    }

    /** Opens the FIFO for reading (which waits for a writer) and reads it to its end, on a thread of its own. */
    private CompletableFuture<String> readAll(Path fifo) {
        return CompletableFuture.supplyAsync(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, clients);
    }

    private static void awaitFile(Path file, String content) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!(Files.exists(file) && Files.readString(file).equals(content)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(file).hasContent(content.stripTrailing());
    }

    private static long entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.count();
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("execgate-upstream-it");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
