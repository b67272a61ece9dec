package io.execgate.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

import io.execgate.exec.ExecService;
import io.execgate.exec.Subscription;
import io.execgate.host.ConsoleSize;
import jakarta.websocket.Session;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.NativeWebSocketSession;
import org.springframework.web.socket.handler.BinaryWebSocketHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The channel protocol over one session: attaches the session to its exec once open, and turns what the
 * client sends into stdin, resizes and stdin's end. Messages on other channels, and empty ones, are skipped as an
 * API server skips them; text and oversized messages close the session with a reason, never a failure of the
 * service.
 */
final class ExecStreamHandler extends BinaryWebSocketHandler {

    private static final Logger log = LoggerFactory.getLogger(ExecStreamHandler.class);
    /** Tomcat's per-session limit on a blocking send; past it the send fails and the client is dropped. */
    private static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";

    private final ExecService execs;
    private final StreamSessions sessions;
    private final JsonMapper json;
    private final Duration sendTimeout;
    private final Duration stdinTimeout;
    private final long maxMessageSize;

    ExecStreamHandler(ExecService execs, StreamSessions sessions, JsonMapper json, Duration sendTimeout,
            Duration stdinTimeout, long maxMessageSize) {
        this.execs = execs;
        this.sessions = sessions;
        this.json = json;
        this.sendTimeout = sendTimeout;
        this.stdinTimeout = stdinTimeout;
        this.maxMessageSize = maxMessageSize;
    }

    /** Messages come in parts of the container's buffer: a session costs that buffer, not the largest message. */
    @Override
    public boolean supportsPartialMessages() {
        return true;
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession session) {
        ExecHandshake.Plan plan = (ExecHandshake.Plan) session.getAttributes().get(ExecHandshake.SESSION);
        if (session instanceof NativeWebSocketSession nativeSession
                && nativeSession.getNativeSession(Session.class) instanceof Session standard) {
            standard.getUserProperties().put(BLOCKING_SEND_TIMEOUT, sendTimeout.toMillis());
        }
        StreamSession stream = new StreamSession(session, plan.protocol(), plan.stdin(), plan.stdout(), plan.stderr(),
                json, sendTimeout);
        session.getAttributes().put(StreamSession.class.getName(), stream);
        if (!sessions.add(stream, plan.reservation())) {
            // The handshake's slot expired before Tomcat opened the session, and others took the room meanwhile.
            stream.closeLater(CloseStatus.SERVICE_OVERLOAD.withReason("no session is free (execgate.stream.max-sessions, "
                    + "max-sessions-per-principal)"));
            if (plan.oneStep()) {
                execs.abandon(plan.exec());
            }
            return;
        }
        stream.ready();
        stream.subscribed(execs.attach(plan.exec(), stream, plan.caller(), plan.stdin()));
    }

    @Override
    protected void handlePongMessage(WebSocketSession session, PongMessage message) {
        StreamSession stream = stream(session);
        if (stream != null) {
            stream.ponged();
        }
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) {
        StreamSession stream = stream(session);
        Subscription subscription = stream == null ? null : stream.subscription();
        if (subscription == null) {
            return;
        }
        ByteBuffer payload = message.getPayload();
        InboundMessage inbound = stream.inbound();
        if (inbound.closing()) {
            return;
        }
        if (inbound.discarding()) { // the rest of a refused message, while the session closes
            if (message.isLast()) {
                inbound.reset();
            }
            return;
        }
        // The limit counts the channel byte too, as it did when Tomcat held whole messages.
        if (!inbound.add(payload.remaining(), maxMessageSize + 1)) {
            inbound.closeAll(); // what of it came before the limit has gone to stdin: nothing after it may
            stream.closeLater(CloseStatus.TOO_BIG_TO_PROCESS.withReason("a message over execgate.stream.max-message-size"));
            return;
        }
        if (inbound.atStart()) {
            if (!payload.hasRemaining()) {
                return; // an empty message carries nothing, not even a channel: Kubernetes skips it too
            }
            inbound.start(payload.get() & 0xff);
        }
        stream.touched();
        int channel = inbound.channel();
        switch (channel) {
            case ChannelProtocol.STDIN -> stdin(stream, subscription, payload);
            case ChannelProtocol.RESIZE, ChannelProtocol.CLOSE -> {
                inbound.collect(payload);
                if (message.isLast()) {
                    control(stream, subscription, channel, inbound.controlMessage());
                }
            }
            default -> {
                // Output channels and channels the protocol does not have: an API server's stream skips such
                // messages and keeps the session, so clients written against it may send them.
                log.debug("session {}: skipping a message on channel {}", session.getId(), channel);
                refuse(inbound, message);
                return;
            }
        }
        if (message.isLast()) {
            inbound.reset();
        }
    }

    private static void refuse(InboundMessage inbound, BinaryMessage part) {
        if (part.isLast()) {
            inbound.reset();
        } else {
            inbound.discard();
        }
    }

    /**
     * A whole resize or close message; null when it was too large to be one (ignored, as bad JSON is). One the
     * process cannot take (its terminal closed as it exited, a UVM's agent gone) is logged and the session goes on:
     * it still gets the exec's status, where an exception here would close it with 1011.
     */
    private void control(StreamSession stream, Subscription subscription, int channel, @Nullable ByteBuffer payload) {
        try {
            if (channel == ChannelProtocol.RESIZE) {
                if (payload != null) {
                    resize(subscription, payload);
                }
            } else if (!stream.isV5()) {
                return; // v4 has no channel 255: skipped, as any channel it does not have
            } else if (stream.acceptsStdin() && payload != null && payload.remaining() == 1
                    && payload.get() == ChannelProtocol.STDIN) {
                subscription.closeStdin();
            }
        } catch (IOException e) {
            log.info("exec {}: a {} from the client failed: {}", subscription.execId(),
                    channel == ChannelProtocol.RESIZE ? "resize" : "close of stdin", e.getMessage());
        }
    }

    /**
     * Queues stdin for the exec's writer, waiting (on this session's virtual thread) while the queue is full: the
     * client is held back as a TCP window would hold it. A process that takes nothing for the stdin timeout gets its
     * client dropped rather than a thread held for ever.
     */
    private void stdin(StreamSession stream, Subscription subscription, ByteBuffer payload) {
        if (!stream.acceptsStdin() || !payload.hasRemaining()) {
            return;
        }
        byte[] data = new byte[payload.remaining()];
        payload.get(data);
        try {
            if (!subscription.writeStdin(data, stdinTimeout)) {
                stream.inbound().closeAll();
                stream.closeLater(CloseStatus.POLICY_VIOLATION.withReason("the process does not read its stdin"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Resize messages are JSON objects, possibly several in one message: the last one counts. As in Kubernetes, a
     * resize that cannot be applied (a zero size, bad JSON) is ignored, not fatal to the session.
     */
    private void resize(Subscription subscription, ByteBuffer payload) throws IOException {
        byte[] body = new byte[payload.remaining()];
        payload.get(body);
        JsonNode last = null;
        try (var values = json.readerFor(JsonNode.class).<JsonNode>readValues(body)) {
            while (values.hasNext()) {
                last = values.next();
            }
        } catch (JacksonException e) {
            log.debug("exec {}: ignored a resize that is not JSON", subscription.execId());
            return;
        }
        int width = last == null ? 0 : field(last, "Width").asInt(0);
        int height = last == null ? 0 : field(last, "Height").asInt(0);
        if (width < 1 || width > 65535 || height < 1 || height > 65535) {
            log.debug("exec {}: ignored a resize to {}x{}", subscription.execId(), width, height);
            return;
        }
        subscription.resize(new ConsoleSize(width, height));
    }

    /**
     * A member as Go's {@code encoding/json} finds it, which is how Kubernetes reads a resize: the exact name first,
     * else one that differs only in case ({@code "width"} works against an API server, so it works here).
     */
    private static JsonNode field(JsonNode object, String name) {
        JsonNode exact = object.path(name);
        if (!exact.isMissingNode()) {
            return exact;
        }
        for (var member : object.properties()) {
            if (member.getKey().equalsIgnoreCase(name)) {
                return member.getValue();
            }
        }
        return exact;
    }

    @Override
    protected void handleTextMessage(WebSocketSession session, TextMessage message) {
        StreamSession stream = stream(session);
        if (stream != null && !stream.inbound().closing()) {
            stream.inbound().closeAll();
            stream.closeLater(CloseStatus.NOT_ACCEPTABLE.withReason("text messages are not part of the channel protocol"));
        }
    }

    @Override
    public void handleTransportError(WebSocketSession session, Throwable error) {
        log.debug("session {}: transport error: {}", session.getId(), error.toString());
    }

    @Override
    public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
        StreamSession stream = stream(session);
        if (stream != null) {
            sessions.remove(stream);
            stream.closed();
        }
    }

    private static StreamSession stream(WebSocketSession session) {
        return (StreamSession) session.getAttributes().get(StreamSession.class.getName());
    }
}
