package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.IntByReference;

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
 * {@code /proc/sys/fs/pipe-user-pages-soft}) stays as it is. Once the flood is over ({@link #SMALL_READS_TO_SHRINK}
 * reads of a line or so in a row) a grown pipe goes back to its first size: for a service not run as root, a pipe's size
 * counts against that limit whether it holds anything or not.
 *
 * <p>How far a pipe grows follows its reader: it grows only while a read had room for more than the pipe held, so a
 * relay held to small chunks ({@code execgate.exec.relay-buffer-limit}) keeps its pipe small too.
 */
final class OutputPipe extends InputStream implements ReadableByteChannel {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int F_GETPIPE_SZ = 1032;
    private static final int PAGE = 4096;
    /** The largest the pipe grows to: 1 MiB, also Linux's default {@code pipe-max-size} for unprivileged users. */
    static final int MOST = 1024 * 1024;

    /** Reads in a row of less than {@link #CHATTY} bytes, after which a grown pipe shrinks back. */
    static final int SMALL_READS_TO_SHRINK = 16;
    /** A read smaller than this is a line, not part of a flood. */
    private static final int CHATTY = 2 * 1024;

    private final FileChannel channel;
    /** Another descriptor of the same pipe, for its size; owned and closed with the channel. */
    private final int sizing;
    private final int firstCapacity;
    private int capacity;
    private int smallReads;
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
        this.firstCapacity = size;
    }

    @Override
    public int read(ByteBuffer into) throws IOException {
        int room = into.remaining();
        int n = channel.read(into);
        if (n > capacity - PAGE && room > n) {
            smallReads = 0;
            grow(); // the pipe was full and the reader had room for more: it lags behind the process
        } else if (capacity > firstCapacity && n < CHATTY) {
            if (++smallReads >= SMALL_READS_TO_SHRINK) {
                smallReads = 0;
                resize(firstCapacity); // the flood is over: the process writes lines now
            }
        } else {
            smallReads = 0; // a flood the reader keeps up with still reads what the process wrote last, often 4 KiB
        }
        return n;
    }

    /** Bytes the pipe holds unread ({@code FIONREAD}); 0 once closed. */
    @Override
    public int available() throws IOException {
        synchronized (descriptor) {
            if (closed) {
                return 0;
            }
            IntByReference count = new IntByReference();
            try {
                LIBC.ioctl(sizing, new NativeLong(Libc.FIONREAD), count);
            } catch (LastErrorException e) {
                throw new IOException("FIONREAD: " + LIBC.strerror(e.getErrorCode()), e);
            }
            return count.getValue();
        }
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
        if (!resize(Math.min(MOST, 2 * capacity))) {
            growing = false; // EPERM over the user's pipe limit: it stays at its size
        }
    }

    /** False when the kernel refused (over the user's pipe limit; or, shrinking, more held than would fit). */
    private boolean resize(int size) {
        synchronized (descriptor) {
            if (closed) {
                return true;
            }
            try {
                capacity = LIBC.fcntl(sizing, F_SETPIPE_SZ, size);
                return true;
            } catch (LastErrorException e) {
                return false;
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
