package io.execgate.host.qemu;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * One frame of the agent protocol (docs/uvm-agent-protocol.md): a 12-byte header (type, three reserved bytes,
 * session, length; big-endian) and at most {@link #MAX_PAYLOAD} bytes of payload.
 */
record AgentFrame(int type, int session, byte[] payload) {

    static final int HEADER = 12;
    static final int MAX_PAYLOAD = 65536;

    // session 0
    static final int HELLO = 0x01;
    static final int PING = 0x02;
    static final int PONG = 0x03;
    static final int POWEROFF = 0x04;
    // host to guest
    static final int EXEC = 0x10;
    static final int STDIN = 0x11;
    static final int STDIN_CLOSE = 0x12;
    static final int RESIZE = 0x13;
    static final int SIGNAL = 0x14;
    static final int CREDIT = 0x15;
    static final int CLOSE = 0x16;
    // guest to host
    static final int STARTED = 0x20;
    static final int STDOUT = 0x21;
    static final int STDERR = 0x22;
    static final int EXIT = 0x23;
    static final int STDIN_CREDIT = 0x24;
    static final int ERROR = 0x2F;

    AgentFrame {
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a frame carries at most " + MAX_PAYLOAD + " bytes, not " + payload.length);
        }
    }

    /** The frame as it goes on the wire. */
    ByteBuffer encode() {
        ByteBuffer frame = ByteBuffer.allocate(HEADER + payload.length);
        frame.put((byte) type).put((byte) 0).putShort((short) 0).putInt(session).putInt(payload.length).put(payload);
        return frame.flip();
    }

    /** Reads the next frame; EOFException at a clean end between frames, IOException for a broken one. */
    static AgentFrame read(ReadableByteChannel in, ByteBuffer header) throws IOException {
        header.clear();
        if (!fill(in, header) ) {
            throw new EOFException("the agent's channel ended");
        }
        header.flip();
        int type = header.get() & 0xff;
        header.position(4);
        int session = header.getInt();
        int length = header.getInt();
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new IOException("a frame of " + Integer.toUnsignedString(length) + " bytes: the channel is out of step");
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        if (length > 0 && !fill(in, payload)) {
            throw new EOFException("the agent's channel ended inside a frame");
        }
        return new AgentFrame(type, session, payload.array());
    }

    /** Fills the buffer; false when the channel ends before the first byte, an exception when it ends later. */
    private static boolean fill(ReadableByteChannel in, ByteBuffer buffer) throws IOException {
        boolean any = false;
        while (buffer.hasRemaining()) {
            int n = in.read(buffer);
            if (n < 0) {
                if (!any && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("the agent's channel ended inside a frame");
            }
            any |= n > 0;
        }
        return true;
    }

    @Override
    public String toString() {
        return "AgentFrame[type=0x" + Integer.toHexString(type) + ", session=" + session + ", " + payload.length + " bytes]";
    }
}
