package io.execgate.host.qemu;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import io.execgate.host.StartFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one connection to a VM's agent, for the VM's whole life (the virtio-serial channel keeps nothing across a
 * reconnect). A platform thread reads frames and hands each to its session without ever blocking, so one
 * session's slow reader holds back nobody; writers take turns on a lock. A keepalive thread pings; a channel that
 * ends, breaks, or stops answering pings ends the connection, and every session with it, as lost.
 */
final class AgentConnection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);
    /** What the agent serves at once. */
    static final int MAX_SESSIONS = 256;
    private static final int MISSED_PINGS = 3;
    private static final Duration HELLO_RETRY = Duration.ofMillis(250);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(15);

    private final String name;
    private final ReadableByteChannel in;
    private final WritableByteChannel out;
    private final AutoCloseable channel;
    private final Clock clock;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Map<Integer, AgentSession> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextSession = new AtomicInteger(1);
    private final CompletableFuture<String> hello = new CompletableFuture<>();
    private final CompletableFuture<String> ended = new CompletableFuture<>();
    private volatile long lastHeard = System.nanoTime();

    private AgentConnection(String name, ReadableByteChannel in, WritableByteChannel out, AutoCloseable channel,
            Clock clock) {
        this.name = name;
        this.in = in;
        this.out = out;
        this.channel = channel;
        this.clock = clock;
    }

    /**
     * Starts reading and says HELLO; returns once the agent has answered, with its kernel release in
     * {@link #release()}.
     *
     * @param channel closed to end the connection (it owns {@code in} and {@code out})
     */
    static AgentConnection open(String name, ReadableByteChannel in, WritableByteChannel out, AutoCloseable channel,
            Duration helloTimeout, Duration keepalive, Clock clock) throws IOException {
        AgentConnection connection = new AgentConnection(name, in, out, channel, clock);
        Thread.ofPlatform().daemon().name(name + "-agent").start(connection::readLoop);
        // Until the guest has opened its port, what the host sends is dropped: say HELLO until it answers.
        long deadline = System.nanoTime() + helloTimeout.toNanos();
        try {
            while (!connection.hello.isDone()) {
                connection.send(AgentFrame.HELLO, 0, AgentPayloads.hello());
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException();
                }
                try {
                    connection.hello.get(Math.min(left, HELLO_RETRY.toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException again) {
                    // not up yet
                }
            }
            connection.hello.get();
        } catch (IOException | ExecutionException | TimeoutException | InterruptedException e) {
            connection.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("the agent did not answer HELLO: " + (e instanceof TimeoutException ? "no answer within "
                    + helloTimeout : e instanceof ExecutionException ee ? ee.getCause().getMessage() : e.getMessage()), e);
        }
        if (keepalive.isPositive()) {
            Thread.ofPlatform().daemon().name(name + "-keepalive").start(() -> connection.keepalive(keepalive));
        }
        return connection;
    }

    /** The guest kernel's release, from the agent's HELLO. */
    String release() {
        return hello.getNow("");
    }

    /** Completes with the reason once the connection has ended. */
    CompletableFuture<String> ended() {
        return ended;
    }

    int sessionCount() {
        return sessions.size();
    }

    /** Starts an exec: returns once the agent reports it started, or throws what kept it from starting. */
    AgentSession exec(AgentPayloads.Exec exec, boolean openStdin, boolean openStdout, boolean openStderr,
            Duration startTimeout) throws StartFailure {
        String tooLong = AgentPayloads.tooLong(exec);
        if (tooLong != null) {
            // A client's request the agent cannot carry, as a too-large total below: a start failure, not a 500.
            throw new StartFailure(StartFailure.Kind.UNSUPPORTED, tooLong + "; the UVM agent takes at most "
                    + AgentPayloads.MAX_STRING + " bytes per argument, variable or working directory");
        }
        byte[] payload = AgentPayloads.exec(exec);
        if (payload.length > AgentFrame.MAX_PAYLOAD) {
            throw new StartFailure(StartFailure.Kind.UNSUPPORTED, "the command line and environment take "
                    + payload.length + " bytes; the UVM agent takes at most " + AgentFrame.MAX_PAYLOAD);
        }
        if (ended.isDone()) {
            throw new StartFailure(StartFailure.Kind.TARGET_GONE, "the UVM's agent is gone: " + ended.getNow(""));
        }
        AgentSession session;
        synchronized (sessions) { // counted and added as one step: execs starting together must not pass the limit
            if (sessions.size() >= MAX_SESSIONS) {
                throw new StartFailure(StartFailure.Kind.BACKEND_UNAVAILABLE, "the UVM runs " + MAX_SESSIONS
                        + " execs, the most its agent takes at once");
            }
            session = new AgentSession(this, nextSession.getAndIncrement(), exec.tty(), openStdin, openStdout,
                    openStderr, clock);
            sessions.put(session.id(), session);
        }
        if (ended.isDone()) { // ended between the check and the put: lost() may have missed it
            session.lost(ended.getNow("the UVM's agent is gone"));
        }
        try {
            send(AgentFrame.EXEC, session.id(), payload);
            session.started().get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!openStdin && !exec.tty()) {
                // The agent always gives the process a stdin: one nobody writes to ends at once, as /dev/null would.
                // (On a terminal that would type ^D: a tty without stdin just never gets input, as on the host.)
                send(AgentFrame.STDIN_CLOSE, session.id(), new byte[0]);
            }
            return session;
        } catch (ExecutionException e) {
            sessions.remove(session.id());
            throw e.getCause() instanceof StartFailure failure ? failure
                    : new StartFailure(StartFailure.Kind.BACKEND_ERROR, String.valueOf(e.getCause()), e.getCause());
        } catch (IOException e) {
            sessions.remove(session.id());
            throw new StartFailure(StartFailure.Kind.TARGET_GONE, "the UVM's agent is gone: " + e.getMessage(), e);
        } catch (TimeoutException e) {
            // Not known to have started: ask the agent to drop it, whatever it did.
            sendQuietly(AgentFrame.SIGNAL, session.id(), AgentPayloads.signal(9, true));
            session.close();
            throw new StartFailure(StartFailure.Kind.BACKEND_UNAVAILABLE, "the UVM's agent did not start the command within "
                    + startTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sendQuietly(AgentFrame.SIGNAL, session.id(), AgentPayloads.signal(9, true));
            session.close();
            throw new StartFailure(StartFailure.Kind.BACKEND_ERROR, "interrupted while starting the command", e);
        }
    }

    /** Asks the guest to power off (the agent syncs and powers the VM off; QEMU then exits). */
    void powerOff() {
        sendQuietly(AgentFrame.POWEROFF, 0, new byte[0]);
    }

    void forget(AgentSession session) {
        sessions.remove(session.id(), session);
    }

    void send(int type, int session, byte[] payload) throws IOException {
        ByteBuffer frame = new AgentFrame(type, session, payload).encode();
        boolean locked;
        try {
            locked = writeLock.tryLock(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting to write to the agent", e);
        }
        if (!locked) {
            // Another write has waited that long for a guest that reads nothing: the guest is wedged. Ending the
            // connection closes the channel, which also frees the stuck writer.
            end("writes to the UVM's agent have been stuck for " + WRITE_TIMEOUT);
            throw new IOException("the UVM's agent takes no input");
        }
        try {
            while (frame.hasRemaining()) {
                out.write(frame);
            }
        } catch (IOException e) {
            end("writing to the agent failed: " + e.getMessage());
            throw e;
        } finally {
            writeLock.unlock();
        }
    }

    /** For frames whose loss the connection's end reports anyway (credits, CLOSE). */
    void sendQuietly(int type, int session, byte[] payload) {
        if (ended.isDone()) {
            return;
        }
        try {
            send(type, session, payload);
        } catch (IOException e) {
            log.debug("{}: a frame to the agent was not sent: {}", name, e.getMessage());
        }
    }

    private void readLoop() {
        ByteBuffer header = ByteBuffer.allocate(AgentFrame.HEADER);
        String why;
        try {
            for (;;) {
                AgentFrame frame = AgentFrame.read(in, header);
                lastHeard = System.nanoTime();
                if (frame.session() == 0) {
                    control(frame);
                } else {
                    AgentSession session = sessions.get(frame.session());
                    if (session != null) {
                        session.received(frame);
                    } else if (frame.type() == AgentFrame.STDOUT || frame.type() == AgentFrame.STDERR) {
                        // output of a session the host let go: keep the agent's window open so it can finish
                        sendQuietly(AgentFrame.CREDIT, frame.session(), AgentPayloads.credit(frame.payload().length));
                    }
                }
            }
        } catch (EOFException e) {
            why = "the UVM's agent closed its channel";
        } catch (OutputWindow.Exceeded e) {
            // A protocol violation, not a broken channel: said where operators look, then handled as any agent
            // failure (every session lost; the VM fails).
            why = "the UVM's agent broke the protocol: " + e.getMessage();
            log.warn("{}: {}; ending the connection", name, why);
        } catch (IOException | RuntimeException e) {
            why = "the channel to the UVM's agent broke: " + e.getMessage();
        }
        end(why);
    }

    private void control(AgentFrame frame) throws IOException {
        switch (frame.type()) {
            case AgentFrame.HELLO -> {
                try {
                    hello.complete(AgentPayloads.helloRelease(frame.payload()));
                } catch (RuntimeException e) {
                    hello.completeExceptionally(e);
                }
            }
            case AgentFrame.PING -> send(AgentFrame.PONG, 0, frame.payload());
            case AgentFrame.ERROR -> hello.completeExceptionally(
                    new IOException("the agent refused: " + AgentPayloads.error(frame.payload()).message()));
            default -> { } // PONG: lastHeard is enough
        }
    }

    private void keepalive(Duration interval) {
        while (!ended.isDone()) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            if (System.nanoTime() - lastHeard > interval.toNanos() * MISSED_PINGS) {
                end("the UVM's agent answered no ping for " + interval.multipliedBy(MISSED_PINGS));
                return;
            }
            byte[] token = new byte[8];
            ThreadLocalRandom.current().nextBytes(token);
            sendQuietly(AgentFrame.PING, 0, token);
        }
    }

    /** Ends the connection once: every session is lost, the channel closed. */
    private void end(String why) {
        if (!ended.complete(why)) {
            return;
        }
        hello.completeExceptionally(new IOException(why));
        log.debug("{}: {}", name, why);
        for (AgentSession session : List.copyOf(sessions.values())) {
            session.lost(why);
        }
        sessions.clear();
        try {
            channel.close();
        } catch (Exception e) {
            log.debug("{}: closing the channel failed: {}", name, e.getMessage());
        }
    }

    @Override
    public void close() {
        end("the connection to the UVM's agent was closed");
    }
}
