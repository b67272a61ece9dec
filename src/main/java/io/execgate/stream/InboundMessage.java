package io.execgate.stream;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.jspecify.annotations.Nullable;

/**
 * Where a session is in the message a client is sending. Messages arrive in parts of at most the container's
 * buffer ({@link StreamConfiguration#PART_BUFFER}), so a session costs that buffer, not the largest message it may
 * send: the channel byte comes with the first part, stdin parts go on at once, and a control message (resize,
 * close) is collected whole, up to {@link #CONTROL_LIMIT}. Parts of one session come one at a time.
 */
final class InboundMessage {

    /** A control message larger than this is not a resize anyone sends: it is dropped, as bad JSON would be. */
    static final int CONTROL_LIMIT = 4096;

    private int channel = -1;
    private long size;
    private @Nullable ByteArrayOutputStream control;
    private boolean controlTooLarge;
    private boolean discarding;
    private boolean closing;

    /** Counts a part; false once the message has grown past the limit. */
    boolean add(int bytes, long limit) {
        size += bytes;
        return size <= limit;
    }

    boolean atStart() {
        return channel < 0;
    }

    int channel() {
        return channel;
    }

    void start(int channel) {
        this.channel = channel;
    }

    void collect(ByteBuffer part) {
        ByteArrayOutputStream collected = control != null ? control : new ByteArrayOutputStream();
        control = collected;
        if (controlTooLarge || collected.size() + part.remaining() > CONTROL_LIMIT) {
            controlTooLarge = true;
            part.position(part.limit());
            return;
        }
        byte[] bytes = new byte[part.remaining()];
        part.get(bytes);
        collected.writeBytes(bytes);
    }

    /** The collected control message, or null when it was too large. */
    @Nullable ByteBuffer controlMessage() {
        ByteArrayOutputStream collected = control;
        return controlTooLarge ? null : ByteBuffer.wrap(collected == null ? new byte[0] : collected.toByteArray());
    }

    /** The message is refused (too large, an unknown channel): its remaining parts are dropped, not parsed. */
    void discard() {
        discarding = true;
    }

    boolean discarding() {
        return discarding;
    }

    /**
     * The session is closing because of something the client sent (a message over the limit, a text message, stdin
     * the process would not take): nothing it sends after that is taken, so no stream the process reads has a hole
     * in it, and no further close is started for each message still on its way.
     */
    void closeAll() {
        closing = true;
    }

    boolean closing() {
        return closing;
    }

    /** The message is over: the next part starts a new one. */
    void reset() {
        channel = -1;
        size = 0;
        control = null;
        controlTooLarge = false;
        discarding = false;
    }
}
