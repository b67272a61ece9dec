package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.support.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent protocol end to end without a VM: the guest agent built from uvm/agent/agent.c runs on this host with
 * {@code --stdio}, and the service's own connection and sessions speak to it over its pipes.
 */
class AgentProtocolIT {

    private static final Path AGENT = Path.of("target/native/execgate-agent");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Process agentProcess;
    private AgentConnection agent;

    @BeforeEach
    void startAgent() throws IOException {
        assumeTrue(Files.isExecutable(AGENT), "the build compiles the agent with gcc (exec-maven-plugin)");
        agentProcess = new ProcessBuilder(AGENT.toString(), "--stdio").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        agent = AgentConnection.open("test", Channels.newChannel(agentProcess.getInputStream()),
                flushing(agentProcess.getOutputStream()), agentProcess::destroyForcibly, WAIT,
                Duration.ofSeconds(1), Clock.systemUTC());
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (agentProcess != null) {
            agentProcess.destroyForcibly();
            assertThat(agentProcess.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void helloNamesTheKernelAndKeepaliveHoldsTheConnection() throws Exception {
        assertThat(agent.release()).isEqualTo(System.getProperty("os.version"));
        Thread.sleep(3_500); // more than three keepalive intervals: pings must have been answered
        assertThat(agent.ended()).isNotDone();
    }

    @Test
    void stdoutAndStderrStayApartAndTheExitCodeComesBack() throws Exception {
        Result result = run(exec(List.of("sh", "-c", "printf out; printf err >&2; exit 3")), null);
        assertThat(result.stdout()).isEqualTo("out");
        assertThat(result.stderr()).isEqualTo("err");
        assertThat(result.exit()).isEqualTo(ExitStatus.exited(3, result.exitAt()));
    }

    @Test
    void environmentAndWorkingDirectoryAreTheExecs() throws Exception {
        AgentPayloads.Exec exec = new AgentPayloads.Exec(List.of("sh", "-c", "echo \"$GREETING\"; pwd; env | sort"),
                List.of("PATH=/usr/bin:/bin", "GREETING=hello there"), "/tmp", false, 24, 80, -1, -1);
        Result result = run(exec, null);
        assertThat(result.stdout()).startsWith("hello there\n/tmp\n").contains("PATH=/usr/bin:/bin\n")
                .doesNotContain("HOME=");
    }

    @Test
    void aMissingProgramIsAStartFailureAnd127() {
        StartFailure failure = catchThrowableOfType(StartFailure.class,
                () -> agent.exec(exec(List.of("/no/such/program")), false, true, true, WAIT));
        assertThat(failure.kind()).isEqualTo(StartFailure.Kind.EXECUTABLE_NOT_FOUND);
        assertThat(failure.getMessage()).contains("/no/such/program");
        StartFailure cwd = catchThrowableOfType(StartFailure.class, () -> agent.exec(new AgentPayloads.Exec(
                List.of("true"), List.of(), "/no/such/dir", false, 24, 80, -1, -1), false, true, true, WAIT));
        assertThat(cwd.kind()).isEqualTo(StartFailure.Kind.BAD_WORKING_DIR);
        assertThat(agent.sessionCount()).isZero();
    }

    @Test
    void aUserTheAgentCannotSwitchToIsABadUserAndTheAgentGoesOn() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "running the agent as nobody needs root");
        Process unprivileged = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                AGENT.toAbsolutePath().toString(), "--stdio").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (AgentConnection nobody = AgentConnection.open("nobody", Channels.newChannel(unprivileged.getInputStream()),
                flushing(unprivileged.getOutputStream()), unprivileged::destroyForcibly, WAIT, Duration.ofSeconds(1),
                Clock.systemUTC())) {
            StartFailure root = catchThrowableOfType(StartFailure.class, () -> nobody.exec(new AgentPayloads.Exec(
                    List.of("true"), List.of(), "/", false, 24, 80, 0, 0), false, true, true, WAIT));
            assertThat(root.kind()).isEqualTo(StartFailure.Kind.BAD_USER);
            assertThat(root.getMessage()).startsWith("setgid: ");
            AgentSession session = nobody.exec(exec(List.of("id", "-u")), false, true, true, WAIT);
            StreamReader out = StreamReader.start(session.stdout().orElseThrow());
            assertThat(session.onExit().get(30, TimeUnit.SECONDS).exitCode()).isZero();
            out.done().get(30, TimeUnit.SECONDS);
            assertThat(out.text()).isEqualTo("65534\n");
            session.close();
        } finally {
            unprivileged.destroyForcibly();
            assertThat(unprivileged.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void stdinReachesTheProcessAndClosingItEndsTheRead() throws Exception {
        Result result = run(exec(List.of("sh", "-c", "tr a-z A-Z; echo done")), "hello\nworld\n".getBytes());
        assertThat(result.stdout()).isEqualTo("HELLO\nWORLD\ndone\n");
        assertThat(result.exit().exitCode()).isZero();
    }

    @Test
    void aProcessGivenNoStdinReadsEndOfFile() throws Exception {
        AgentSession session = agent.exec(exec(List.of("sh", "-c", "cat; echo read-to-the-end")), false, true, true, WAIT);
        StreamReader out = StreamReader.start(session.stdout().orElseThrow());
        assertThat(session.onExit().get(30, TimeUnit.SECONDS).exitCode()).isZero();
        out.done().get(30, TimeUnit.SECONDS);
        assertThat(out.text()).isEqualTo("read-to-the-end\n");
        session.close();
    }

    @Test
    void stderrFlowsOnAfterStdoutClosesAndIsReadLate() throws Exception {
        // A window's worth on stdout, then stdout closed, then more than a window on stderr, with stdout read a
        // second late: the window the two streams share comes back from stdout's reads and keeps stderr going.
        AgentSession session = agent.exec(exec(List.of("sh", "-c",
                "head -c 262144 /dev/zero; exec 1>&-; head -c 400000 /dev/zero >&2")), false, true, true, WAIT);
        StreamReader err = StreamReader.start(session.stderr().orElseThrow());
        Thread.sleep(1_000); // stdout's last bytes and its end arrive before anyone reads them
        StreamReader out = StreamReader.start(session.stdout().orElseThrow());
        assertThat(session.onExit().get(30, TimeUnit.SECONDS).exitCode()).isZero();
        out.done().get(30, TimeUnit.SECONDS);
        err.done().get(30, TimeUnit.SECONDS);
        assertThat(out.bytes()).hasSize(262_144);
        assertThat(err.bytes()).hasSize(400_000);
        session.close();
    }

    @Test
    void aTerminalHasItsSizeFromTheStartAndFollowsResizes() throws Exception {
        AgentPayloads.Exec exec = new AgentPayloads.Exec(List.of("sh", "-c", "stty size; read line; stty size; tty"),
                List.of("PATH=/usr/bin:/bin"), "/", true, 40, 100, -1, -1);
        AgentSession session = agent.exec(exec, true, true, true, WAIT);
        assertThat(session.stderr()).isEmpty();
        StreamReader out = StreamReader.start(session.stdout().orElseThrow());
        out.await("40 100\r\n");
        session.resize(new ConsoleSize(132, 50));
        session.stdin().orElseThrow().write("go\n".getBytes());
        out.await("50 132\r\n");
        ExitStatus exit = session.onExit().get(30, TimeUnit.SECONDS);
        assertThat(exit.exitCode()).isZero();
        out.done().get(30, TimeUnit.SECONDS);
        assertThat(out.text()).contains("/dev/pts/");
        session.close();
    }

    @Test
    void signalsReachTheProcessAndItsGroup() throws Exception {
        AgentSession session = agent.exec(exec(List.of("sh", "-c", "sleep 100 & echo $!; wait")), false, true, true, WAIT);
        StreamReader out = StreamReader.start(session.stdout().orElseThrow());
        long child = Long.parseLong(out.awaitLine().strip());
        session.terminate(); // the group: the shell and its sleep
        ExitStatus exit = session.onExit().get(30, TimeUnit.SECONDS);
        assertThat(exit.reason()).isEqualTo(ExitReason.KILLED);
        assertThat(exit.signal()).isEqualTo("SIGTERM");
        assertThat(exit.exitCode()).isEqualTo(143);
        assertThat(Processes.awaitGone(child, 5_000)).as("the sleep the shell started").isTrue();
        session.close();

        AgentSession alone = agent.exec(exec(List.of("sleep", "100")), false, true, true, WAIT);
        alone.signal(Signal.parse("SIGUSR1"));
        assertThat(alone.onExit().get(30, TimeUnit.SECONDS).signal()).isEqualTo("SIGUSR1");
        alone.close();
    }

    @Test
    void aReaderThatTakesNothingStallsOnlyItsOwnSession() throws Exception {
        AgentSession stalled = agent.exec(exec(List.of("yes")), false, true, true, WAIT);
        List<CompletableFuture<Result>> others = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            others.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return run(exec(List.of("sh", "-c", "echo " + n)), null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, runnable -> Thread.ofPlatform().start(runnable)));
        }
        for (int i = 0; i < 20; i++) {
            Result result = others.get(i).get(60, TimeUnit.SECONDS);
            assertThat(result.stdout()).isEqualTo(i + "\n");
        }
        // The stalled session holds at most its window, unread.
        assertThat(stalled.stdout().orElseThrow().available()).isLessThanOrEqualTo(AgentPayloads.WINDOW);
        assertThat(stalled.onExit()).isNotDone();
        stalled.kill();
        assertThat(stalled.onExit().get(30, TimeUnit.SECONDS).signal()).isEqualTo("SIGKILL");
        stalled.close();
    }

    @Test
    void tenMebibytesArriveWhole() throws Exception {
        Path blob = Files.createTempFile("agent-blob", ".bin");
        try {
            byte[] data = new byte[10 * 1024 * 1024];
            new java.util.Random(42).nextBytes(data);
            Files.write(blob, data);
            Result result = run(exec(List.of("cat", blob.toString())), null);
            assertThat(sha256(result.stdoutBytes())).isEqualTo(sha256(data));
            // and back through stdin
            Result echoed = run(exec(List.of("sha256sum")), data);
            assertThat(echoed.stdout()).startsWith(sha256(data));
        } finally {
            Files.delete(blob);
        }
    }

    @Test
    void losingTheAgentEndsEverySessionAsLost() throws Exception {
        AgentSession session = agent.exec(exec(List.of("sleep", "100")), false, true, true, WAIT);
        agentProcess.destroyForcibly();
        ExitStatus exit = session.onExit().get(30, TimeUnit.SECONDS);
        assertThat(exit.reason()).isEqualTo(ExitReason.LOST);
        assertThat(agent.ended()).isDone();
        StartFailure failure = catchThrowableOfType(StartFailure.class,
                () -> agent.exec(exec(List.of("true")), false, true, true, WAIT));
        assertThat(failure.kind()).isEqualTo(StartFailure.Kind.TARGET_GONE);
    }

    /** The process's stdin is buffered: each frame must go out whole, at once. */
    private static java.nio.channels.WritableByteChannel flushing(java.io.OutputStream out) {
        return new java.nio.channels.WritableByteChannel() {
            private boolean open = true;

            @Override
            public int write(java.nio.ByteBuffer source) throws IOException {
                int n = source.remaining();
                byte[] bytes = new byte[n];
                source.get(bytes);
                out.write(bytes);
                out.flush();
                return n;
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() throws IOException {
                open = false;
                out.close();
            }
        };
    }

    private static AgentPayloads.Exec exec(List<String> argv) {
        return new AgentPayloads.Exec(argv, List.of("PATH=/usr/local/bin:/usr/bin:/bin"), "/", false, 24, 80, -1, -1);
    }

    record Result(byte[] stdoutBytes, String stdout, String stderr, ExitStatus exit) {
        java.time.Instant exitAt() {
            return exit.at();
        }
    }

    private Result run(AgentPayloads.Exec exec, byte[] input) throws Exception {
        AgentSession session = agent.exec(exec, input != null, true, true, WAIT);
        StreamReader out = StreamReader.start(session.stdout().orElseThrow());
        StreamReader err = StreamReader.start(session.stderr().orElseThrow());
        if (input != null) {
            Thread.ofPlatform().start(() -> {
                try {
                    session.stdin().orElseThrow().write(input);
                    session.closeStdin();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        ExitStatus exit = session.onExit().get(60, TimeUnit.SECONDS);
        out.done().get(60, TimeUnit.SECONDS);
        err.done().get(60, TimeUnit.SECONDS);
        session.close();
        return new Result(out.bytes(), out.text(), err.text(), exit);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** Reads a stream to its end on a platform thread, keeping what it read. */
    static final class StreamReader {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        static StreamReader start(InputStream in) {
            StreamReader reader = new StreamReader();
            Thread.ofPlatform().start(() -> {
                byte[] chunk = new byte[8192];
                try {
                    for (int n; (n = in.read(chunk)) >= 0; ) {
                        synchronized (reader) {
                            reader.bytes.write(chunk, 0, n);
                            reader.notifyAll();
                        }
                    }
                    reader.done.complete(null);
                } catch (IOException e) {
                    reader.done.completeExceptionally(e);
                }
                synchronized (reader) {
                    reader.notifyAll();
                }
            });
            return reader;
        }

        CompletableFuture<Void> done() {
            return done;
        }

        synchronized byte[] bytes() {
            return bytes.toByteArray();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        synchronized void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!text().contains(text)) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("waiting for %s in %s", text, text()).isPositive();
                wait(Math.max(1, left / 1_000_000));
            }
        }

        synchronized String awaitLine() throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!text().contains("\n")) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("waiting for a line").isPositive();
                wait(Math.max(1, left / 1_000_000));
            }
            return text().substring(0, text().indexOf('\n') + 1);
        }
    }
}
