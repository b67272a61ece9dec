package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ExitReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host enforces each session's output window: a fake agent on a pair of pipes speaks the protocol, and the
 * host's real connection and sessions answer it. Output within the window, credited back as it is read, flows
 * for ever; output beyond it ends the connection, and the session with it, as lost.
 */
class AgentOutputWindowTest {

    private static final int CHUNK = 64 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(10);

    private FakeAgent fake;
    private AgentConnection connection;

    @BeforeEach
    void connect() throws IOException {
        Pipe toHost = Pipe.open();
        Pipe toAgent = Pipe.open();
        fake = new FakeAgent(toAgent.source(), toHost.sink());
        connection = AgentConnection.open("test", toHost.source(), toAgent.sink(), () -> {
            toHost.source().close();
            toAgent.sink().close();
        }, WAIT, Duration.ZERO, Clock.systemUTC());
    }

    @AfterEach
    void close() throws IOException {
        connection.close();
        fake.close();
    }

    @Test
    void outputBeyondTheWindowEndsTheConnectionAndItsSessionsAsLost() throws Exception {
        AgentSession session = connection.exec(exec(), false, true, true, WAIT);
        // The agent ignores that nobody read (and so credited) anything: 320 KiB into a 256 KiB window.
        for (int i = 0; i < 5; i++) {
            fake.send(AgentFrame.STDOUT, session.id(), new byte[CHUNK]);
        }
        String why = connection.ended().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(why).contains("broke the protocol", "more than its window of 262144");
        assertThat(session.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS).reason()).isEqualTo(ExitReason.LOST);
        assertThat(session.stdout().orElseThrow().available()).as("what the window allowed, no more")
                .isLessThanOrEqualTo(AgentPayloads.WINDOW);
    }

    @Test
    void outputWithinTheWindowFlowsAsTheHostCreditsItBack() throws Exception {
        AgentSession session = connection.exec(exec(), false, true, true, WAIT);
        for (int round = 0; round < 3; round++) {
            // A full window, split over stdout and stderr (one window for both), read, then credited back.
            for (int i = 0; i < 4; i++) {
                fake.send(i % 2 == 0 ? AgentFrame.STDOUT : AgentFrame.STDERR, session.id(), new byte[CHUNK]);
            }
            assertThat(session.stdout().orElseThrow().readNBytes(2 * CHUNK)).hasSize(2 * CHUNK);
            assertThat(session.stderr().orElseThrow().readNBytes(2 * CHUNK)).hasSize(2 * CHUNK);
            fake.awaitCredited((long) (round + 1) * AgentPayloads.WINDOW);
            assertThat(connection.ended()).as("round %d", round).isNotDone();
        }
    }

    @Test
    void aStreamItsReaderClosedIsCreditedBackSoTheOtherStreamFlowsOn() throws Exception {
        AgentSession session = connection.exec(exec(), false, true, true, WAIT);
        fake.send(AgentFrame.STDOUT, session.id(), new byte[CHUNK]);
        fake.send(AgentFrame.STDOUT, session.id(), new byte[CHUNK]);
        awaitAvailable(session.stdout().orElseThrow(), 2 * CHUNK);
        session.stdout().orElseThrow().close(); // its relay failed, say: nobody will read stdout again
        fake.awaitCredited(2L * CHUNK);
        // What the process writes to stdout after that is dropped, and credited as it comes: a window and a half
        for (int i = 0; i < 6; i++) {
            fake.send(AgentFrame.STDOUT, session.id(), new byte[CHUNK]);
        }
        fake.awaitCredited(8L * CHUNK);
        for (int i = 0; i < 4; i++) {
            fake.send(AgentFrame.STDERR, session.id(), new byte[CHUNK]);
        }
        assertThat(session.stderr().orElseThrow().readNBytes(4 * CHUNK)).as("a full window of stderr still flows")
                .hasSize(4 * CHUNK);
        assertThat(connection.ended()).isNotDone();
    }

    @Test
    void aStdinCreditBeyondAnyWindowDoesNotWrapTheWindow() throws Exception {
        AgentSession session = connection.exec(exec(), true, true, true, WAIT);
        // A guest that was taken over may grant anything: 2 GiB more on top of the 256 KiB it started with.
        fake.send(AgentFrame.STDIN_CREDIT, session.id(), AgentPayloads.credit(Integer.MAX_VALUE));
        fake.send(AgentFrame.STDOUT, session.id(), "after".getBytes(StandardCharsets.UTF_8));
        // frames are taken in order: once "after" is read, the credit has been counted
        assertThat(session.stdout().orElseThrow().readNBytes(5)).asString(StandardCharsets.UTF_8).isEqualTo("after");
        session.stdin().orElseThrow().write("input".getBytes(StandardCharsets.UTF_8));
        fake.awaitStdin(5);
        assertThat(connection.ended()).isNotDone();
    }

    @Test
    void anExitRightBeforeTheConnectionEndsIsAnExitNotALoss() throws Exception {
        for (int round = 0; round < 30; round++) {
            Pipe toHost = Pipe.open();
            Pipe toAgent = Pipe.open();
            try (FakeAgent agent = new FakeAgent(toAgent.source(), toHost.sink())) {
                AgentConnection ending = AgentConnection.open("test", toHost.source(), toAgent.sink(), () -> {
                    toHost.source().close();
                    toAgent.sink().close();
                }, WAIT, Duration.ZERO, Clock.systemUTC());
                try {
                    AgentSession session = ending.exec(exec(), false, true, true, WAIT);
                    agent.send(AgentFrame.EXIT, session.id(), ByteBuffer.allocate(5).put((byte) 0).putInt(3).array());
                    toHost.sink().close(); // the guest goes away right after: the connection ends
                    var exit = session.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    assertThat(exit.reason()).as("round %d", round).isEqualTo(ExitReason.EXITED);
                    assertThat(exit.exitCode()).isEqualTo(3);
                } finally {
                    ending.close();
                }
            }
        }
    }

    private static void awaitAvailable(java.io.InputStream in, int bytes) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (in.available() < bytes) {
            assertThat(System.nanoTime()).as("%d bytes buffered, not %d", in.available(), bytes).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static AgentPayloads.Exec exec() {
        return new AgentPayloads.Exec(List.of("yes"), List.of(), "/", false, 24, 80, -1, -1);
    }

    /** Answers HELLO and EXEC, counts credits, and sends whatever the test says, credits or not. */
    private static final class FakeAgent implements AutoCloseable {

        private final Pipe.SourceChannel in;
        private final Pipe.SinkChannel out;
        private final Thread reader;
        private final Object writeLock = new Object();
        private long credited; // guarded by this
        private long stdin; // guarded by this

        FakeAgent(Pipe.SourceChannel in, Pipe.SinkChannel out) {
            this.in = in;
            this.out = out;
            this.reader = Thread.ofPlatform().daemon().name("fake-agent").start(this::serve);
        }

        private void serve() {
            ByteBuffer header = ByteBuffer.allocate(AgentFrame.HEADER);
            try {
                for (;;) {
                    AgentFrame frame = AgentFrame.read(in, header);
                    switch (frame.type()) {
                        case AgentFrame.HELLO -> {
                            byte[] release = "fake".getBytes(StandardCharsets.UTF_8);
                            send(AgentFrame.HELLO, 0, ByteBuffer.allocate(4 + release.length).putShort((short) 1)
                                    .putShort((short) release.length).put(release).array());
                        }
                        case AgentFrame.EXEC -> send(AgentFrame.STARTED, frame.session(), AgentPayloads.credit(42));
                        case AgentFrame.CREDIT -> {
                            synchronized (this) {
                                credited += AgentPayloads.u32(frame.payload());
                                notifyAll();
                            }
                        }
                        case AgentFrame.STDIN -> {
                            synchronized (this) {
                                stdin += frame.payload().length;
                                notifyAll();
                            }
                        }
                        default -> { } // STDIN_CLOSE, CLOSE: nothing to do
                    }
                }
            } catch (IOException ended) {
                // the host closed its end
            }
        }

        void send(int type, int session, byte[] payload) throws IOException {
            ByteBuffer frame = new AgentFrame(type, session, payload).encode();
            synchronized (writeLock) {
                while (frame.hasRemaining()) {
                    out.write(frame);
                }
            }
        }

        void awaitCredited(long bytes) throws InterruptedException {
            await("credits", () -> credited, bytes);
        }

        void awaitStdin(long bytes) throws InterruptedException {
            await("stdin", () -> stdin, bytes);
        }

        private synchronized void await(String what, java.util.function.LongSupplier count, long bytes)
                throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (count.getAsLong() < bytes) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("%s: %d of %d bytes", what, count.getAsLong(), bytes).isPositive();
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }


        @Override
        public void close() throws IOException {
            out.close();
            in.close();
            try {
                reader.join(WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
