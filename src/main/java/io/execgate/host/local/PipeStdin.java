package io.execgate.host.local;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import io.execgate.host.ImmediateInput;

/**
 * The parent's end of a process's stdin pipe, held twice: as a blocking {@link FileChannel} for the exec's writer
 * thread (closing it wakes a write blocked on a pipe that a grandchild holds and never reads), and as a second,
 * non-blocking descriptor of the same pipe for {@link #writeWithoutWaiting}. Both are closed together, which is
 * what ends the process's input.
 */
final class PipeStdin extends OutputStream implements ImmediateInput {

    private static final Libc LIBC = Libc.INSTANCE;
    /** Most one immediate write takes: a small message or keystroke, not a flood (the writer thread has those). */
    private static final int MOST_AT_ONCE = 16 * 1024;
    /** The most one blocking write takes: a pipe's worth. */
    static final int SLICE = 64 * 1024;

    private final FileChannel channel;
    private final int noWait;
    private final Object descriptor = new Object(); // guards noWait against its close: its number could be reused
    private boolean closed; // guarded by descriptor

    /** @param noWait a descriptor of the same pipe with {@code O_NONBLOCK}; this stream owns and closes it */
    PipeStdin(FileChannel channel, int noWait) {
        this.channel = channel;
        this.noWait = noWait;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /**
     * Writes in slices of at most {@link #SLICE}: the JDK writes a heap buffer through a temporary direct one as
     * large as the write, and keeps it cached on the thread, so one large input (a run's {@code input}, up to the
     * request size) would leave each pooled thread that wrote one holding as much native memory for good.
     */
    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        int end = offset + length;
        for (int at = offset; at < end; at += SLICE) {
            ByteBuffer bytes = ByteBuffer.wrap(data, at, Math.min(SLICE, end - at));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }
    }

    @Override
    public int writeWithoutWaiting(byte[] data, int offset, int length) throws IOException {
        int chunk = Math.min(length, MOST_AT_ONCE);
        if (chunk == 0) {
            return 0;
        }
        synchronized (descriptor) {
            if (closed) {
                throw new IOException("stdin is closed");
            }
            byte[] bytes = offset == 0 ? data : Arrays.copyOfRange(data, offset, offset + chunk);
            try {
                return LIBC.write(noWait, bytes, new NativeLong(chunk)).intValue();
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Libc.EAGAIN || e.getErrorCode() == Libc.EINTR) {
                    return 0;
                }
                throw new IOException("write to stdin: " + LIBC.strerror(e.getErrorCode()), e);
            }
        }
    }

    @Override
    public void close() {
        synchronized (descriptor) {
            if (!closed) {
                closed = true;
                try {
                    LIBC.close(noWait);
                } catch (LastErrorException ignored) {
                    // our own descriptor: nothing to do about a failed close
                }
            }
        }
        PosixSpawner.closeQuietly(channel);
    }
}
