package io.execgate.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import io.execgate.exec.Attachment;
import io.execgate.exec.StdStream;
import io.execgate.exec.Subscription;
import io.execgate.host.ExitStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.WebSocketSession;
import tools.jackson.databind.json.JsonMapper;

/**
 * One WebSocket client attached to one exec. Every send goes through {@link #sending}: the exec's relays (output,
 * then the status), the ping timer, and protocol-error closes from the session's own thread. Sends block, so a
 * slow client holds its relay, and through it the process; the container's send timeout ends a client that
 * takes nothing.
 */
final class StreamSession implements Attachment {

    private static final Logger log = LoggerFactory.getLogger(StreamSession.class);

    private final WebSocketSession session;
    private final String protocol;
    private final boolean stdin;
    private final boolean stdout;
    private final boolean stderr;
    private final JsonMapper json;
    private final Duration sendTimeout;
    private final ReentrantLock sending = new ReentrantLock();
    private volatile long lastData = System.nanoTime();
    /** When the oldest ping the client has not answered went out ({@link System#nanoTime()}); 0: none is. */
    private volatile long unansweredPingSince;
    /** Set once a close is on its way: the keep-alive rounds leave the session alone from then on. */
    private volatile boolean closeAsked;
    private volatile @Nullable Subscription subscription;
    private volatile boolean closed;
    /**
     * Set, under {@link #sending} where it can be had, once a close frame is sent or on its way: nothing may follow it
     * (RFC 6455 5.5.1), though the container takes sends until the client answers the close.
     */
    private volatile boolean shut;
    private final InboundMessage inbound = new InboundMessage();

    StreamSession(WebSocketSession session, String protocol, boolean stdin, boolean stdout, boolean stderr,
            JsonMapper json, Duration sendTimeout) {
        this.session = session;
        this.protocol = protocol;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.json = json;
        this.sendTimeout = sendTimeout;
    }

    /**
     * The attachment is made. A connection that closed meanwhile (a client that reset right after the 101 makes
     * the ready message fail, and the container closes the session before the attach) lets it go at once, or its
     * exec would count a client for ever: a one-step exec would never end.
     */
    void subscribed(Subscription subscription) {
        this.subscription = subscription;
        if (closed) {
            subscription.detach();
        }
    }

    /** The connection closed: the attachment, made or still to come, is let go (detaching twice is harmless). */
    void closed() {
        closed = true;
        Subscription made = subscription;
        if (made != null) {
            made.detach();
        }
    }

    @Nullable Subscription subscription() {
        return subscription;
    }

    /** The message the client is sending now (parts come one at a time). */
    InboundMessage inbound() {
        return inbound;
    }

    boolean acceptsStdin() {
        return stdin;
    }

    boolean isV5() {
        return ChannelProtocol.V5.equals(protocol);
    }

    /** Data went either way: a message from the client, or output it took. */
    void touched() {
        lastData = System.nanoTime();
        if (unansweredPingSince != 0) { // read, not written, on every frame: a ping is outstanding rarely
            unansweredPingSince = 0;
        }
    }

    /** The client answered a ping. */
    void ponged() {
        unansweredPingSince = 0;
    }

    /**
     * Whether a ping has gone unanswered for longer than {@code timeout}, with no message from the client and no
     * output sent to it since, and none being sent now. Output counts: a slow client's pong waits behind the output
     * queued before the ping, and one that is still taking output is not gone; the send timeout judges that one.
     */
    boolean unanswered(Duration timeout) {
        long since = unansweredPingSince;
        return since != 0 && !closeAsked && !sending.isLocked() && System.nanoTime() - since > timeout.toNanos();
    }

    Duration idleFor() {
        return Duration.ofNanos(System.nanoTime() - lastData);
    }

    @Override
    public void output(StdStream stream, ByteBuffer data) throws IOException {
        if (stream == StdStream.STDOUT ? !stdout : !stderr) {
            return;
        }
        sending.lock();
        try {
            if (shut) {
                return; // after the status or a close: the client has been told all it will be
            }
            int header = data.position() - 1;
            data.put(header, (byte) stream.channel()); // the channel byte, in the room the relay left for it
            session.sendMessage(new BinaryMessage(data.slice(header, data.limit() - header), true));
            touched();
        } catch (IOException | RuntimeException e) {
            // Gone, or took nothing for the send timeout: let the exec go on without this client.
            abort("sending output failed: " + e);
            throw e instanceof IOException io ? io : new IOException(e);
        } finally {
            sending.unlock();
        }
    }

    @Override
    public void ended(ExitStatus status) {
        sending.lock();
        try {
            if (shut || !session.isOpen()) {
                return; // told already (the service is going away) or gone
            }
            shut = true;
            session.sendMessage(new BinaryMessage(ChannelProtocol.status(status, json)));
            session.close(CloseStatus.NORMAL);
        } catch (IOException | RuntimeException e) {
            abort("sending the status failed: " + e);
        } finally {
            sending.unlock();
        }
    }

    /**
     * The service is going away: a Failure status with the reason on the status channel, then close 1001, after
     * any send under way (waiting at most the send timeout). The exec's own end, later, finds the session closed.
     */
    void goingAway(String message) {
        boolean locked = false;
        try {
            locked = sending.tryLock(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!shut && session.isOpen()) {
                shut = true;
                session.sendMessage(new BinaryMessage(ChannelProtocol.goingAway(message, json)));
                session.close(CloseStatus.GOING_AWAY.withReason(message));
            }
        } catch (IOException | RuntimeException e) {
            abort("telling the client of the shutdown failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (locked) {
                sending.unlock();
            }
        }
    }

    /**
     * Pings on a virtual thread of its own: a client that stopped reading with the socket full holds a ping up to
     * the send timeout, and the timer that calls this serves every session.
     */
    void pingLater() {
        Thread.ofVirtual().name("session-" + session.getId() + "-ping").start(this::ping);
    }

    /** Pings, unless a send is under way (that shows the connection is used anyway). */
    void ping() {
        if (sending.tryLock()) {
            try {
                if (session.isOpen()) {
                    if (unansweredPingSince == 0) {
                        unansweredPingSince = System.nanoTime(); // before the send: a quick pong clears it
                    }
                    session.sendMessage(new PingMessage());
                }
            } catch (IOException | RuntimeException e) {
                abort("ping failed: " + e);
            } finally {
                sending.unlock();
            }
        }
    }

    /**
     * The Kubernetes "ready" signal: an empty message on the lowest channel this client reads (stdout, else
     * stderr, else the status channel), sent before anything else.
     */
    void ready() {
        sending.lock();
        try {
            int channel = stdout ? 1 : stderr ? 2 : ChannelProtocol.STATUS;
            session.sendMessage(new BinaryMessage(new byte[] {(byte) channel}));
        } catch (IOException | RuntimeException e) {
            abort("sending the ready message failed: " + e);
        } finally {
            sending.unlock();
        }
    }

    /** Closes on a virtual thread: the caller (a container thread, the ping timer) must not wait for a send. */
    void closeLater(CloseStatus status) {
        closeAsked = true;
        Thread.ofVirtual().name("session-" + session.getId() + "-close").start(() -> close(status));
    }

    /** Closes with a status, after any send under way (waiting at most the send timeout). */
    void close(CloseStatus status) {
        boolean locked = false;
        try {
            locked = sending.tryLock(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
            shut = true;
            session.close(status);
        } catch (IOException | RuntimeException e) {
            log.debug("closing session {} failed: {}", session.getId(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (locked) {
                sending.unlock();
            }
        }
    }

    @Override
    public String toString() {
        return session.getId();
    }

    private void abort(String why) {
        log.debug("session {}: {}", session.getId(), why);
        shut = true;
        try {
            session.close(CloseStatus.SESSION_NOT_RELIABLE);
        } catch (IOException | RuntimeException ignored) {
            // the connection is already gone
        }
    }
}
