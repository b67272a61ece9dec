package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;

import com.sun.jna.LastErrorException;

/**
 * The parent's end of a pipe a process writes its stdout or stderr to. It is a stream and a channel: a relay that
 * reads it into a direct buffer saves the JDK's copy through a temporary one. Reads go through a blocking
 * {@link FileChannel}, which (unlike {@code FileInputStream}) ends a read blocked on it when another thread closes
 * it: that is how a relay held open by a grandchild is let go.
 *
 * <p>A pipe starts at Linux's 64 KiB. While a read takes all of it (the process writes faster than its output is
 * sent on), the pipe doubles, up to {@link #MOST}: each read then brings more, and every read is a frame to a client
 * and a wake-up of the process, whose fixed costs dominate a flood. Kernel pages back only what the pipe holds, and
 * only flooding pipes grow, so idle sessions cost no more. A pipe that may not grow (over the user's pipe limit,
 * {@code /proc/sys/fs/pipe-user-pages-soft}) stays as it is.
 */
final class OutputPipe extends InputStream implements ReadableByteChannel {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int F_GETPIPE_SZ = 1032;
    private static final int PAGE = 4096;
    /** The largest the pipe grows to: 1 MiB, also Linux's default {@code pipe-max-size} for unprivileged users. */
    static final int MOST = 1024 * 1024;

    private final FileChannel channel;
    /** Another descriptor of the same pipe, for its size; owned and closed with the channel. */
    private final int sizing;
    private int capacity;
    private boolean growing = true;
    private final Object descriptor = new Object(); // guards sizing against its close: its number could be reused
    private boolean closed; // guarded by descriptor

    /** @param sizing a descriptor of the same pipe; this stream owns and closes it */
    OutputPipe(FileChannel channel, int sizing) {
        this.channel = channel;
        this.sizing = sizing;
        int size;
        try {
            size = LIBC.fcntl(sizing, F_GETPIPE_SZ, 0);
        } catch (LastErrorException e) {
            size = 64 * 1024;
            growing = false;
        }
        this.capacity = size;
    }

    @Override
    public int read(ByteBuffer into) throws IOException {
        int room = into.remaining();
        int n = channel.read(into);
        if (n > capacity - PAGE && room > n) {
            grow(); // the pipe was full and the reader had room for more: it lags behind the process
        }
        return n;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        return length == 0 ? 0 : read(ByteBuffer.wrap(buffer, offset, length));
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    /** The pipe's size now, in bytes. */
    int capacity() {
        return capacity;
    }

    private void grow() {
        if (!growing || capacity >= MOST) {
            return;
        }
        synchronized (descriptor) {
            if (closed) {
                return;
            }
            try {
                capacity = LIBC.fcntl(sizing, F_SETPIPE_SZ, Math.min(MOST, 2 * capacity));
            } catch (LastErrorException e) {
                growing = false; // EPERM over the user's pipe limit, EBUSY: it stays at its size
            }
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() {
        synchronized (descriptor) {
            if (!closed) {
                closed = true;
                PolledDescriptor.closeQuietly(sizing);
            }
        }
        PosixSpawner.closeQuietly(channel);
    }
}
