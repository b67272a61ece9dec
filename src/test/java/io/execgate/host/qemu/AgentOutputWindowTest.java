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

        synchronized void awaitCredited(long bytes) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (credited < bytes) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("credits: %d of %d bytes", credited, bytes).isPositive();
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
