package io.execgate.host.qemu;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.jspecify.annotations.Nullable;

/** The payloads of the agent protocol's frames, written and read as docs/uvm-agent-protocol.md lays them out. */
final class AgentPayloads {

    static final int VERSION = 1;
    /** Both windows of a session, in bytes. */
    static final int WINDOW = 256 * 1024;
    /** The longest string a payload carries: its length is a {@code u16}. */
    static final int MAX_STRING = 0xffff;

    private AgentPayloads() {
    }

    /** What an EXEC asks for; uid and gid are -1 for the agent's own. */
    record Exec(List<String> argv, List<String> env, String cwd, boolean tty, int rows, int cols, int uid, int gid) {
    }

    /** How a process ended, as EXIT reports it. */
    record Exit(boolean signaled, int value) {
    }

    /** A start failure, as ERROR reports it. */
    record Error(int code, String message) {
    }

    static byte[] hello() {
        return ByteBuffer.allocate(2).putShort((short) VERSION).array();
    }

    /**
     * What in the EXEC does not fit the protocol (an argument, a variable or the working directory longer than
     * {@link #MAX_STRING} bytes), named for the client, or null when everything fits. Checked before
     * {@link #exec(Exec)}, which refuses such a string outright.
     */
    static @Nullable String tooLong(Exec exec) {
        if (utf8Length(exec.cwd()) > MAX_STRING) {
            return "the working directory takes " + utf8Length(exec.cwd()) + " bytes";
        }
        for (int i = 0; i < exec.argv().size(); i++) {
            int length = utf8Length(exec.argv().get(i));
            if (length > MAX_STRING) {
                return "argument " + i + " of the command (" + preview(exec.argv().get(i)) + ") takes " + length
                        + " bytes";
            }
        }
        for (String variable : exec.env()) {
            int length = utf8Length(variable);
            if (length > MAX_STRING) {
                int eq = variable.indexOf('=');
                return "the environment variable " + preview(eq < 0 ? variable : variable.substring(0, eq)) + " takes "
                        + length + " bytes";
            }
        }
        return null;
    }

    private static int utf8Length(String value) {
        return value.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Enough of a string to recognise it in an error, not the 64 KiB of it. */
    private static String preview(String value) {
        return value.length() <= 24 ? "'" + value + "'" : "'" + value.substring(0, 24) + "...'";
    }

    static byte[] exec(Exec exec) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(exec.tty() ? 1 : 0);
            out.writeShort(exec.rows());
            out.writeShort(exec.cols());
            out.writeInt(exec.uid());
            out.writeInt(exec.gid());
            string(out, exec.cwd());
            out.writeShort(exec.argv().size());
            for (String arg : exec.argv()) {
                string(out, arg);
            }
            out.writeShort(exec.env().size());
            for (String variable : exec.env()) {
                string(out, variable);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] resize(int rows, int cols) {
        return ByteBuffer.allocate(4).putShort((short) rows).putShort((short) cols).array();
    }

    static byte[] signal(int number, boolean group) {
        return new byte[] {(byte) number, (byte) (group ? 1 : 0)};
    }

    static byte[] credit(int bytes) {
        return ByteBuffer.allocate(4).putInt(bytes).array();
    }

    static int u32(byte[] payload) {
        return ByteBuffer.wrap(payload).getInt();
    }

    static Exit exit(byte[] payload) {
        ByteBuffer in = ByteBuffer.wrap(payload);
        return new Exit(in.get() == 1, in.getInt());
    }

    static Error error(byte[] payload) {
        ByteBuffer in = ByteBuffer.wrap(payload);
        int code = in.getShort() & 0xffff;
        return new Error(code, string(in));
    }

    /** HELLO from the guest: its version, then its kernel release. */
    static String helloRelease(byte[] payload) {
        ByteBuffer in = ByteBuffer.wrap(payload);
        int version = in.getShort() & 0xffff;
        if (version != VERSION) {
            throw new IllegalStateException("the agent speaks protocol version " + version + ", not " + VERSION);
        }
        return string(in);
    }

    private static void string(DataOutputStream out, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_STRING) {
            throw new IllegalArgumentException("a string of " + bytes.length + " bytes does not fit the protocol");
        }
        out.writeShort(bytes.length);
        out.write(bytes);
    }

    private static String string(ByteBuffer in) {
        int length = in.getShort() & 0xffff;
        byte[] bytes = new byte[length];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
