package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import io.execgate.support.ChannelClient.Refusal;
import io.execgate.support.Processes;
import io.execgate.support.RawHttp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Attach and one-step exec over a real WebSocket client, against real processes and terminals. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.stream.ping-interval=1s",
        "execgate.stream.send-timeout=2s",
        "execgate.stream.stdin-timeout=5s",
        "execgate.exec.kill-grace-period=2s"})
@AutoConfigureRestTestClient
class StreamIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    Api api;

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void catEchoesStdinUntilV5ClosesIt() throws Exception {
        ChannelClient client = ChannelClient.connect(oneStep("stdin=true", "cat"), ChannelClient.V5);
        assertThat(client.subprotocol()).isEqualTo(ChannelClient.V5);
        client.stdin("hello ");
        client.stdin("world\n");
        client.closeStdin();
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout()).isEqualTo("hello world\n");
        assertThat(client.statuses()).hasSize(1);
        assertThat(status(client).path("status").asString()).isEqualTo("Success");
        assertThat(client.channels().getLast()).as("the status comes after all output").isEqualTo(3);
        assertThat(client.readyChannel()).as("Kubernetes' ready signal on stdout").isEqualTo(1);
    }

    @Test
    void theExitCodeComesOnChannel3AndIsRecordedBeforeTheClose() throws Exception {
        ChannelClient ok = ChannelClient.connect(oneStep("", "sh", "-c", "exit 0"), ChannelClient.V5);
        assertThat(ok.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(status(ok).path("status").asString()).isEqualTo("Success");

        for (String protocol : List.of(ChannelClient.V5, ChannelClient.V4)) {
            ChannelClient seven = ChannelClient.connect(oneStep("", "sh", "-c", "echo bye; exit 7"), protocol);
            assertThat(seven.awaitClose(WAIT)).isEqualTo(1000);
            JsonNode status = status(seven);
            assertThat(status.path("status").asString()).isEqualTo("Failure");
            assertThat(status.path("reason").asString()).isEqualTo("NonZeroExitCode");
            assertThat(status.path("details").path("causes").get(0).path("reason").asString()).isEqualTo("ExitCode");
            assertThat(status.path("details").path("causes").get(0).path("message").asString()).isEqualTo("7");
            assertThat(seven.stdout()).isEqualTo("bye\n");
            // right after the close, the record already has the code
            String id = newestExec();
            assertThat(api.get("/api/v1/execs/" + id + "/exit").expect(200).path("exitCode").asInt()).isEqualTo(7);
        }
    }

    /** Tomcat would stop its WebSocket background thread with the last session, and start one with the next. */
    @Test
    void oneStepExecsOneAfterAnotherShareTomcatsBackgroundThread() throws Exception {
        java.util.Set<Thread> seen = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            ChannelClient client = ChannelClient.connect(oneStep("", "echo", "hi"), ChannelClient.V5);
            assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
            Thread.sleep(1500); // longer than the thread's period: a thread told to stop has stopped by now
            Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("WebSocket background processing"))
                    .forEach(seen::add);
        }
        assertThat(seen).as("one background thread, alive throughout").hasSize(1).allMatch(Thread::isAlive);
    }

    @Test
    void stderrComesOnChannel2() throws Exception {
        ChannelClient client = ChannelClient.connect(oneStep("", "sh", "-c", "echo out; echo err >&2"), ChannelClient.V5);
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout()).isEqualTo("out\n");
        assertThat(client.stderr()).isEqualTo("err\n");
    }

    @Test
    void aTerminalHasTheRequestedSizeOnItsFirstRead() throws Exception {
        for (int i = 0; i < 100; i++) {
            ChannelClient client = ChannelClient.connect(oneStep("tty=true&width=100&height=40", "stty", "size"),
                    ChannelClient.V5);
            assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
            assertThat(client.stdout()).as("run %d", i).isEqualTo("40 100\r\n");
        }
    }

    @Test
    void aTerminalFollowsResizesFromChannel4AndFromRest() throws Exception {
        ChannelClient client = ChannelClient.connect(oneStep("tty=true&stdin=true&width=80&height=24", "sh", "-c",
                "stty size; read a; stty size; read b; stty size"), ChannelClient.V5);
        client.awaitStdout("24 80", WAIT);
        client.resize(120, 50);
        client.stdin("\n");
        client.awaitStdout("50 120", WAIT);
        api.post("/api/v1/execs/" + newestExec() + "/resize", "{\"width\": 132, \"height\": 43}").expect(204);
        client.stdin("\n");
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout()).contains("24 80\r\n", "50 120\r\n", "43 132\r\n");
    }

    @Test
    void aLateAttachmentFirstReceivesTheRetainedOutput() throws Exception {
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"echo early; echo warn >&2; sleep 1; echo late\"]}")
                .path("id").asString();
        api.get("/api/v1/execs/" + id + "/exit?wait=PT0.5S");
        ChannelClient late = ChannelClient.connect(attach(id, ""), ChannelClient.V5);
        assertThat(late.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(late.stdout()).isEqualTo("early\nlate\n");
        assertThat(late.stderr()).isEqualTo("warn\n");
        // attaching after the end still gives the output and the status
        ChannelClient after = ChannelClient.connect(attach(id, ""), ChannelClient.V4);
        assertThat(after.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(after.stdout()).isEqualTo("early\nlate\n");
        assertThat(status(after).path("status").asString()).isEqualTo("Success");
    }

    @Test
    void twoReadersSeeTheSameOutputAndEitherCanWriteStdin() throws Exception {
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"read a; echo got $a; read b; echo got $b\"], \"stdin\": true}")
                .path("id").asString();
        ChannelClient first = ChannelClient.connect(attach(id, ""), ChannelClient.V5);
        ChannelClient second = ChannelClient.connect(attach(id, "stdout=true"), ChannelClient.V5);
        first.stdin("one\n");
        second.awaitStdout("got one", WAIT);
        second.stdin("two\n");
        assertThat(first.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(second.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(first.stdout()).isEqualTo("got one\ngot two\n");
        assertThat(second.stdout()).isEqualTo("got one\ngot two\n");
    }

    @Test
    void aSlowClientHoldsTheProcessBackInsteadOfFillingTheHeap() throws Exception {
        long size = 256L * 1024 * 1024;
        // What the stream adds to the heap, not the heap itself: this JVM also holds the contexts of the test
        // classes before this one, more of them as test classes are added.
        System.gc();
        long baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        ChannelClient client = ChannelClient.connect(oneStep("stderr=false", "head", "-c", String.valueOf(size), "/dev/zero"),
                true, false, ChannelClient.V5);
        String id = newestExec();
        long maxAhead = 0;
        long maxHeap = 0;
        long nextCheck = 0;
        while (!client.isClosed()) {
            client.read(1);
            Thread.sleep(0, 200_000);
            if (client.received() >= nextCheck) {
                nextCheck += 32L * 1024 * 1024;
                long produced = api.get("/api/v1/execs/" + id).expect(200).path("stdoutBytes").asLong();
                maxAhead = Math.max(maxAhead, produced - client.received());
                System.gc();
                maxHeap = Math.max(maxHeap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            }
        }
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.received()).as("all of stdout, plus the status").isEqualTo(size + statusBytes(client));
        assertThat(maxAhead).as("bytes the process got ahead of the client").isLessThan(8L * 1024 * 1024);
        // a 1 MiB output buffer, relay chunks of up to 1 MiB, the client's own buffers: nothing near the 256 MiB
        assertThat(maxHeap - baseline).as("heap grown while 256 MiB went through").isLessThan(64L * 1024 * 1024);
    }

    @Test
    void aFloodGoesOutInMessagesLargerThanAPipeAndEveryByteArrivesInOrder() throws Exception {
        // seq's output is known, and no two stretches of it are alike: a lost, doubled or reordered chunk shows
        ChannelClient client = ChannelClient.connect(oneStep("stderr=false", "seq", "1", "3000000"), false, false,
                ChannelClient.V5);
        while (!client.isClosed()) {
            client.read(1);
            Thread.sleep(2); // slower than seq: its pipe fills, and the relay and the pipe grow
        }
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        Process seq = new ProcessBuilder("seq", "1", "3000000").start();
        byte[] expected = seq.getInputStream().readAllBytes();
        assertThat(client.stdout()).hasSize(expected.length).isEqualTo(new String(expected, StandardCharsets.US_ASCII));
        assertThat(client.largestMessage()).as("the largest message, channel byte included")
                .isGreaterThan(64 * 1024 + 1).isLessThanOrEqualTo(1024 * 1024 + 1);
    }

    @Test
    void aClientThatReadsNothingIsDisconnectedAfterTheSendTimeout() throws Exception {
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"while :; do head -c 1048576 /dev/zero; done\"]}")
                .path("id").asString();
        try {
            ChannelClient stuck = ChannelClient.connect(attach(id, ""), true, false, ChannelClient.V5);
            long deadline = System.currentTimeMillis() + 20_000;
            long produced = 0;
            while (System.currentTimeMillis() < deadline && produced < 256L * 1024 * 1024) {
                Thread.sleep(200);
                produced = api.get("/api/v1/execs/" + id).expect(200).path("stdoutBytes").asLong();
            }
            // the relay reads in chunks of up to 1 MiB, so the count can land on 256 MiB exactly
            assertThat(produced).as("the relay runs on once the stuck client is dropped")
                    .isGreaterThanOrEqualTo(256L * 1024 * 1024);
            assertThat(stuck.received()).isLessThan(64L * 1024 * 1024);
            stuck.read(Long.MAX_VALUE); // let the client read on to what the server did: it gave up on the client
            assertThat(stuck.awaitClose(WAIT)).as("the server dropped the stuck session, not a normal close")
                    .isNotEqualTo(1000);
        } finally {
            api.delete("/api/v1/execs/" + id);
        }
    }

    @Test
    void theOneStepFormLeavesNoProcessBehindWhenTheClientGoes() throws Exception {
        ChannelClient plain = ChannelClient.connect(oneStep("stdin=true", "sleep", "600"), ChannelClient.V5);
        long sleeper = api.get("/api/v1/execs/" + newestExec()).expect(200).path("pid").asLong();
        plain.abort();
        assertThat(Processes.awaitGone(sleeper, 10_000)).as("SIGTERM ends it").isTrue();

        // an interactive shell on a terminal ignores SIGTERM; the hang-up ends it
        ChannelClient shell = ChannelClient.connect(oneStep("tty=true&stdin=true", "sh", "-i"), ChannelClient.V5);
        JsonNode exec = api.get("/api/v1/execs/" + newestExec()).expect(200);
        shell.closeNormally();
        assertThat(Processes.awaitGone(exec.path("pid").asLong(), 10_000)).isTrue();
        JsonNode exit = api.awaitExit(exec.path("id").asString());
        assertThat(exit.path("signal").asString()).isEqualTo("SIGHUP");
    }

    @Test
    void refusedHandshakesAnswerWithProblems() {
        Refusal noProtocol = ChannelClient.refused(oneStep("", "true"));
        assertThat(noProtocol.status()).isEqualTo(400);
        Refusal wrongProtocol = ChannelClient.refused(oneStep("", "true"), "channel.k8s.io", "base64.channel.k8s.io");
        assertThat(wrongProtocol.status()).isEqualTo(400);
        assertThat(ChannelClient.refused(attach("e_nope", ""), ChannelClient.V5).status()).isEqualTo(404);
        assertThat(ChannelClient.refused(uri("/api/v1/containers/ctr1/exec?command=true"), ChannelClient.V5).status())
                .isEqualTo(404);
        assertThat(ChannelClient.refused(uri("/api/v1/host/exec?stdout=true"), ChannelClient.V5).status()).isEqualTo(400);
        assertThat(ChannelClient.refused(oneStep("stdin=false&stdout=false&stderr=false", "true"), ChannelClient.V5)
                .status()).isEqualTo(400);
        assertThat(ChannelClient.refused(oneStep("tty=true&stderr=true", "true"), ChannelClient.V5).status()).isEqualTo(400);
        assertThat(ChannelClient.refused(oneStep("tty=maybe", "true"), ChannelClient.V5).status()).isEqualTo(400);
        assertThat(ChannelClient.refused(oneStep("", "no-such-command"), ChannelClient.V5).status()).isEqualTo(422);
    }

    @Test
    void protocolErrorsCloseTheSessionWithAReason() throws Exception {
        ChannelClient text = ChannelClient.connect(oneStep("stdin=true", "cat"), ChannelClient.V5);
        text.sendText("hello");
        assertThat(text.awaitClose(WAIT)).isEqualTo(1003);
        assertThat(text.closeReason()).contains("text");

        // As an API server does, the session skips what it has no use for: an unknown channel, an output channel,
        // an empty message (none of them reaches the process), and goes on.
        ChannelClient unknown = ChannelClient.connect(oneStep("stdin=true", "cat"), ChannelClient.V5);
        unknown.send(7, "seven".getBytes(StandardCharsets.UTF_8));
        unknown.send(1, "one".getBytes(StandardCharsets.UTF_8));
        unknown.sendRaw(new byte[0]);
        unknown.send(9, new byte[200_000]); // arrives in many parts: none of the later ones may pass for stdin
        unknown.stdin("after\n");
        unknown.closeStdin();
        assertThat(unknown.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(unknown.stdout()).isEqualTo("after\n");

        ChannelClient v4close = ChannelClient.connect(oneStep("stdin=true", "cat"), ChannelClient.V4);
        v4close.closeStdin(); // v4 has no channel 255: skipped, stdin stays open
        v4close.stdin("still open\n");
        v4close.awaitStdout("still open\n", WAIT);
        v4close.closeNormally();
        assertThat(v4close.awaitClose(WAIT)).isEqualTo(1000);

        // Messages arrive in parts of the container's 16 KiB buffer: one stdin message of 100 KiB still arrives whole
        ChannelClient big = ChannelClient.connect(oneStep("stdin=true", "sh", "-c", "head -c 102400 | wc -c"),
                ChannelClient.V5);
        byte[] message = new byte[1 + 102400];
        java.util.Arrays.fill(message, 1, message.length, (byte) 'x');
        big.sendRaw(message);
        assertThat(big.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(big.stdout().strip()).isEqualTo("102400");

        ChannelClient huge = ChannelClient.connect(oneStep("stdin=true", "cat"), ChannelClient.V5);
        huge.sendRaw(new byte[2 * 1024 * 1024]);
        assertThat(huge.awaitClose(WAIT)).isEqualTo(1009);

        // as in Kubernetes, a resize that cannot be applied is ignored, not fatal
        ChannelClient badResize = ChannelClient.connect(oneStep("stdin=true&tty=true", "sh", "-c", "read a; stty size"),
                ChannelClient.V5);
        badResize.send(4, "{\"Width\": 0, \"Height\": 0}".getBytes(StandardCharsets.UTF_8));
        badResize.send(4, "not json".getBytes(StandardCharsets.UTF_8));
        badResize.resize(90, 30);
        badResize.stdin("\n");
        assertThat(badResize.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(badResize.stdout()).endsWith("30 90\r\n");
    }

    @Test
    void quietSessionsArePinged() throws Exception {
        ChannelClient client = ChannelClient.connect(oneStep("", "sleep", "3"), ChannelClient.V5);
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.pings()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void permessageDeflateIsNeverNegotiated() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /api/v1/host/exec?command=true HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                    + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                    + "Authorization: Bearer " + Api.ADMIN_TOKEN + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = readHead(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 101");
            assertThat(head.toLowerCase()).contains("sec-websocket-protocol: v5.channel.k8s.io")
                    .doesNotContain("sec-websocket-extensions");
        }
    }

    /**
     * Clients that reset the connection as soon as the 101 arrives: the ready message fails, and the session can
     * close before its attachment is made. Every one-step exec still ends, as when any last client leaves.
     */
    @Test
    void theExecsOfClientsThatResetRightAfterTheUpgradeEnd() throws Exception {
        String marker = "reset-" + System.nanoTime();
        String path = "/api/v1/host/exec?command=sh&command=-c&command=exec+sleep+1000&command=" + marker;
        for (int i = 0; i < 20; i++) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                        + "Authorization: Bearer " + Api.ADMIN_TOKEN + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 101");
                socket.setSoLinger(true, 0); // the close resets the connection
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> running;
        do {
            Thread.sleep(100);
            running = new java.util.ArrayList<>();
            for (JsonNode exec : api.get("/api/v1/execs?state=running&limit=1000").expect(200)) {
                if (exec.path("command").toString().contains(marker)) {
                    running.add(exec.path("id").asString());
                }
            }
        } while (!running.isEmpty() && System.nanoTime() < deadline);
        assertThat(running).as("one-step execs whose client reset after the upgrade, still running").isEmpty();
    }

    @Test
    void protocolsOfferedOnSeveralHeaderLinesAreAllConsideredAndTheOneChosenIsAnswered() throws Exception {
        String head = handshakeHead("/api/v1/host/exec?command=true",
                "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n");
        assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n");
        head = handshakeHead("/api/v1/host/exec?command=true", "Sec-WebSocket-Protocol: chat,  v4.channel.k8s.io \r\n");
        assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n");
    }

    @Test
    void aHandshakeRefusedForItsOriginStartsNothing() throws Exception {
        String marker = "/tmp/execgate-origin-" + System.nanoTime();
        int before = api.get("/api/v1/execs?limit=1000").expect(200).size();
        String head = rawHandshake("/api/v1/host/exec?command=touch&command=" + marker, "Origin: http://evil.example\r\n");
        assertThat(head).startsWith("HTTP/1.1 403");
        Thread.sleep(300);
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of(marker))).as("the command never ran").isFalse();
        assertThat(api.get("/api/v1/execs?limit=1000").expect(200).size()).isEqualTo(before);
    }

    /**
     * What Spring's handshake handler would refuse after the interceptors (no {@code Connection: Upgrade}, another
     * WebSocket version) is refused before the one-step exec starts, with a problem document.
     */
    @Test
    void aHandshakeSpringWouldRefuseIsAProblemAndRunsNothing() throws Exception {
        String marker = "/tmp/execgate-handshake-" + System.nanoTime();
        int before = api.get("/api/v1/execs?limit=1000").expect(200).size();
        String path = "/api/v1/host/exec?command=touch&command=" + marker;
        String websocket = "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n";
        // RawHttp adds Connection: close, and nothing else.
        RawHttp.Answer noUpgrade = RawHttp.exchange(port, "GET", path, websocket + "Sec-WebSocket-Version: 13\r\n", "");
        RawHttp.Answer version8 = RawHttp.exchange(port, "GET", path,
                websocket + "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n", "");
        // Spring's handler takes only "Upgrade" or "upgrade": refused here too, before the command could start
        RawHttp.Answer shouted = RawHttp.exchange(port, "GET", path,
                websocket + "Connection: UPGRADE\r\nSec-WebSocket-Version: 13\r\n", "");
        // Tomcat refuses a key that is not 16 bytes in base64 (RFC 6455 4.1) after the interceptors: refused before
        String upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n";
        List<RawHttp.Answer> badKeys = new java.util.ArrayList<>();
        for (String key : List.of("not-a-valid-key", "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZSBsb25nZXI=",
                "dGhlIHNhbXBsZSBub25jZQ")) { // the last: 16 bytes, but unpadded, which Tomcat refuses

            badKeys.add(RawHttp.exchange(port, "GET", path, upgrade + "Sec-WebSocket-Key: " + key + "\r\n", ""));
        }
        for (RawHttp.Answer answer : badKeys) {
            assertThat(answer.statusLine()).startsWith("HTTP/1.1 400");
            assertThat(JSON.readTree(answer.body()).path("errors").path(0).path("field").asString())
                    .isEqualTo("Sec-WebSocket-Key");
        }
        for (RawHttp.Answer answer : List.of(noUpgrade, version8, shouted)) {
            assertThat(answer.statusLine()).startsWith("HTTP/1.1 400");
            assertThat(answer.head().toLowerCase(java.util.Locale.ROOT)).contains("content-type: application/problem+json");
            assertThat(JSON.readTree(answer.body()).path("code").asString()).isEqualTo("INVALID_REQUEST");
        }
        assertThat(JSON.readTree(noUpgrade.body()).path("errors").path(0).path("field").asString()).isEqualTo("Connection");
        assertThat(JSON.readTree(shouted.body()).path("errors").path(0).path("field").asString()).isEqualTo("Connection");
        assertThat(JSON.readTree(version8.body()).path("errors").path(0).path("field").asString())
                .isEqualTo("Sec-WebSocket-Version");
        assertThat(version8.head()).as("the version spoken, RFC 6455 4.4").contains("Sec-WebSocket-Version: 13");
        Thread.sleep(300);
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of(marker))).as("the command never ran").isFalse();
        assertThat(api.get("/api/v1/execs?limit=1000").expect(200).size()).isEqualTo(before);
    }

    @Test
    void aRequestThatIsNoUpgradeStartsNothing() {
        int before = api.get("/api/v1/execs?limit=1000").expect(200).size();
        api.get("/api/v1/host/exec?command=sleep&command=600").isProblem(400, "INVALID_REQUEST");
        Api.Response posted = api.post("/api/v1/host/exec?command=sleep&command=600", "{}")
                .isProblem(405, "METHOD_NOT_ALLOWED");
        assertThat(posted.headers().getFirst("Allow")).isEqualTo("GET");
        assertThat(api.get("/api/v1/execs?limit=1000").expect(200).size()).isEqualTo(before);
    }

    @Test
    void stdinAProcessDoesNotReadNeitherHoldsAThreadNorTheSessionForEver() throws Exception {
        List<ChannelClient> clients = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ChannelClient client = ChannelClient.connect(oneStep("stdin=true", "sleep", "600"), ChannelClient.V5);
            for (int k = 0; k < 8; k++) {
                client.send(0, new byte[512 * 1024]);
            }
            clients.add(client);
        }
        long asked = System.nanoTime();
        api.get("/api/v1/host").expect(200);
        assertThat((System.nanoTime() - asked) / 1_000_000).as("the API still answers at once (ms)").isLessThan(1500);
        for (ChannelClient client : clients) {
            assertThat(client.awaitClose(WAIT)).isEqualTo(1008);
            assertThat(client.closeReason()).contains("stdin");
        }
    }

    @Test
    void bulkStdinWaitsForAProcessThatPausesLongerThanTheSendTimeoutAndArrivesWhole() throws Exception {
        // A restore that stops reading for a slow statement: its input waits, as a TCP window would hold it back
        ChannelClient client = ChannelClient.connect(oneStep("stdin=true", "sh", "-c", "sleep 3; wc -c"), ChannelClient.V5);
        for (int k = 0; k < 8; k++) {
            client.send(0, new byte[512 * 1024]);
        }
        client.closeStdin();
        assertThat(client.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(client.stdout().strip()).isEqualTo("4194304");
    }

    @Test
    void stdinAfterItsCloseIsIgnoredAndAReadOnlyClientCannotCloseIt() throws Exception {
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"cat; echo after-eof\"], \"stdin\": true}")
                .path("id").asString();
        ChannelClient reader = ChannelClient.connect(attach(id, "stdin=false"), ChannelClient.V5);
        reader.closeStdin(); // not this client's to close
        ChannelClient writer = ChannelClient.connect(attach(id, ""), ChannelClient.V5);
        writer.stdin("one\n");
        reader.awaitStdout("one", WAIT);
        writer.closeStdin();
        writer.stdin("ignored\n");
        assertThat(writer.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(writer.stdout()).isEqualTo("one\nafter-eof\n");
        assertThat(reader.awaitClose(WAIT)).isEqualTo(1000);
    }

    @Test
    void theExitCodeIsReadableAtOnceEvenWhileAnotherClientStalls() throws Exception {
        String id = api.create("{\"command\": [\"sh\", \"-c\", \"head -c 8388608 /dev/zero; exit 4\"]}")
                .path("id").asString();
        ChannelClient stalled = ChannelClient.connect(attach(id, ""), true, false, ChannelClient.V5);
        ChannelClient fast = ChannelClient.connect(attach(id, ""), true, true, ChannelClient.V5);
        assertThat(fast.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(api.get("/api/v1/execs/" + id + "/exit").expect(200).path("exitCode").asInt()).isEqualTo(4);
        stalled.abort();
    }

    private String rawHandshake(String path, String extraHeaders) throws Exception {
        return handshakeHead(path, "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n" + extraHeaders);
    }

    private String handshakeHead(String path, String headers) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Authorization: Bearer " + Api.ADMIN_TOKEN + "\r\n" + headers + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return readHead(socket.getInputStream());
        }
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }

    private URI oneStep(String flags, String... command) {
        String query = Arrays.stream(command).map(c -> "command=" + URLEncoder.encode(c, StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return uri("/api/v1/host/exec?" + query + (flags.isEmpty() ? "" : "&" + flags));
    }

    private URI attach(String id, String flags) {
        return uri("/api/v1/execs/" + id + "/attach" + (flags.isEmpty() ? "" : "?" + flags));
    }

    private URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + port + path);
    }

    private String newestExec() {
        return api.get("/api/v1/execs?limit=1").expect(200).get(0).path("id").asString();
    }

    private static JsonNode status(ChannelClient client) {
        assertThat(client.statuses()).hasSize(1);
        return JSON.readTree(client.statuses().getFirst());
    }

    private static long statusBytes(ChannelClient client) {
        return client.statuses().getFirst().getBytes(StandardCharsets.UTF_8).length;
    }

}
