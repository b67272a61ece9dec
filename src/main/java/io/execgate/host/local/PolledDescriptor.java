package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import io.execgate.host.ImmediateInput;
import org.jspecify.annotations.Nullable;

/**
 * A non-blocking descriptor (a terminal master, a FIFO end) whose reads and writes wait in {@code poll} beside a
 * wake-up pipe, so that {@link #close()} ends them from any thread, and only then closes the descriptor: closing a
 * descriptor under a blocked {@code read} does not wake it on Linux, and its number could be reused meanwhile.
 * One reader and one writer may use it at once.
 */
public final class PolledDescriptor implements AutoCloseable {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int CHUNK = 64 * 1024;

    /** A read or write failed; {@link #errno()} says why. */
    public static final class DescriptorException extends IOException {
        private final int errno;

        DescriptorException(String what, int errno) {
            super(what + ": " + LIBC.strerror(errno));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private final int fd;
    private final int wakeRead;
    private final int wakeWrite;
    /** Shared by everything that uses the descriptors, exclusive for closing them. */
    private final ReentrantReadWriteLock descriptors = new ReentrantReadWriteLock();
    private final ReentrantLock reading = new ReentrantLock();
    private final ReentrantLock writing = new ReentrantLock();
    /** The poll sets, one per direction (each used under its lock), made once rather than per read or write. */
    private final Libc.pollfd[] readPoll;
    private final Libc.pollfd[] writePoll;
    /**
     * Native buffers, made at the first read or write (a pidfd, the most common of these descriptors, never reads
     * nor writes) and freed at the close, not whenever a collection finds them. Guarded by {@link #reading} and
     * {@link #writing}; never touched once closed (every use checks {@link #closed} under the descriptors' lock).
     */
    private @Nullable Memory readBuffer;
    private @Nullable Memory writeBuffer;
    private final Object closing = new Object();
    private volatile boolean closed;

    private PolledDescriptor(int fd, int wakeRead, int wakeWrite) {
        this.fd = fd;
        this.wakeRead = wakeRead;
        this.wakeWrite = wakeWrite;
        this.readPoll = pollSet(Libc.POLLIN);
        this.writePoll = pollSet(Libc.POLLOUT);
    }

    private Libc.pollfd[] pollSet(short events) {
        Libc.pollfd[] fds = (Libc.pollfd[]) new Libc.pollfd().toArray(2);
        fds[0].fd = fd;
        fds[0].events = events;
        fds[1].fd = wakeRead;
        fds[1].events = Libc.POLLIN;
        return fds;
    }

    /**
     * Takes ownership of {@code fd}, which must have been opened with {@code O_NONBLOCK}; closes it when the wake-up
     * pipe cannot be made.
     */
    public static PolledDescriptor of(int fd) throws IOException {
        int[] wake = new int[2];
        try {
            LIBC.pipe2(wake, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new IOException("pipe2: " + LIBC.strerror(e.getErrorCode()), e);
        }
        return new PolledDescriptor(fd, wake[0], wake[1]);
    }

    /** Runs {@code call} with the descriptor (an {@code ioctl}), unless it is closed. */
    public void use(String what, DescriptorCall call) throws IOException {
        descriptors.readLock().lock();
        try {
            if (closed) {
                throw new IOException(what + ": closed");
            }
            call.run(fd);
        } catch (LastErrorException e) {
            throw new DescriptorException(what, e.getErrorCode());
        } finally {
            descriptors.readLock().unlock();
        }
    }

    /** What {@link #use} runs. */
    public interface DescriptorCall {
        void run(int fd) throws LastErrorException;
    }

    /**
     * Reads what is there, waiting for something; -1 at end-of-file or once closed. Once something has come, it
     * goes on reading without waiting while more is there and the buffer has room: a terminal hands out at most
     * about 4 KiB per read, and every read returned is a frame to a client, whose fixed cost dominates a flood.
     *
     * @throws DescriptorException when {@code read} fails (a terminal reports its hang-up as {@code EIO})
     */
    public int read(byte[] buffer, int offset, int length) throws IOException {
        reading.lock();
        descriptors.readLock().lock();
        try {
            while (true) {
                if (!await(readPoll)) {
                    return -1;
                }
                int room = Math.min(length, CHUNK);
                if (readBuffer == null) {
                    readBuffer = new Memory(CHUNK);
                }
                int n = LIBC.read(fd, readBuffer, new NativeLong(room)).intValue();
                if (n < 0) {
                    int errno = Native.getLastError();
                    if (errno != Libc.EAGAIN && errno != Libc.EINTR) {
                        throw new DescriptorException("read", errno);
                    }
                    continue;
                }
                if (n == 0) {
                    return -1;
                }
                n += readMore(n, room);
                readBuffer.read(0, buffer, offset, n);
                return n;
            }
        } finally {
            descriptors.readLock().unlock();
            reading.unlock();
        }
    }

    /**
     * Reads on into {@code readBuffer} after {@code filled} bytes, without waiting, up to {@code room}; stops at
     * the first read that brings nothing. An error stops it too: the next {@link #read} meets it again (a hung-up
     * terminal keeps failing with {@code EIO}) after the bytes read before it have been handed on.
     */
    private int readMore(int filled, int room) {
        int more = 0;
        while (filled + more < room) {
            int n = LIBC.read(fd, readBuffer.share(filled + more), new NativeLong(room - filled - more)).intValue();
            if (n <= 0) {
                return more;
            }
            more += n;
        }
        return more;
    }

    /**
     * Writes at least one byte of the range, waiting while the other side is full; returns how many.
     *
     * @throws DescriptorException   when {@code write} fails ({@code EPIPE}: the reader has gone)
     * @throws InterruptedIOException once closed
     */
    public int writeSome(byte[] buffer, int offset, int length) throws IOException {
        writing.lock();
        descriptors.readLock().lock();
        try {
            while (true) {
                if (!await(writePoll)) {
                    throw new InterruptedIOException("closed");
                }
                int n = writeOnce(buffer, offset, length);
                if (n > 0) {
                    return n;
                }
            }
        } finally {
            descriptors.readLock().unlock();
            writing.unlock();
        }
    }

    /**
     * Writes what goes in of the range without waiting; 0 when the other side is full, or while another thread
     * writes (it waits in {@code poll} and is ahead in line).
     *
     * @throws DescriptorException when {@code write} fails
     * @throws InterruptedIOException once closed
     */
    public int writeWithoutWaiting(byte[] buffer, int offset, int length) throws IOException {
        if (!writing.tryLock()) {
            return 0;
        }
        descriptors.readLock().lock();
        try {
            if (closed) {
                throw new InterruptedIOException("closed");
            }
            return writeOnce(buffer, offset, length);
        } finally {
            descriptors.readLock().unlock();
            writing.unlock();
        }
    }

    /** One {@code write} of at most a chunk, under the writing lock; 0 when the other side is full. */
    private int writeOnce(byte[] buffer, int offset, int length) throws DescriptorException {
        int chunk = Math.min(length, CHUNK);
        if (writeBuffer == null) {
            writeBuffer = new Memory(CHUNK);
        }
        writeBuffer.write(0, buffer, offset, chunk);
        try {
            return Math.max(0, LIBC.write(fd, writeBuffer, new NativeLong(chunk)).intValue());
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Libc.EAGAIN || e.getErrorCode() == Libc.EINTR) {
                return 0;
            }
            throw new DescriptorException("write", e.getErrorCode());
        }
    }

    /** Writes all of the range. */
    public void write(byte[] buffer, int offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            done += writeSome(buffer, offset + done, length - done);
        }
    }

    /** Waits until the descriptor is readable (a pidfd: its process has exited); false once closed. */
    public boolean awaitReadable() throws IOException {
        reading.lock();
        descriptors.readLock().lock();
        try {
            return await(readPoll);
        } finally {
            descriptors.readLock().unlock();
            reading.unlock();
        }
    }

    /** Whether the descriptor is readable now, without waiting; false once closed. */
    public boolean readable() {
        return pollNow(Libc.POLLIN) > 0;
    }

    /** What {@code poll} reports for {@code events} now, without waiting; -1 once closed or when it fails. */
    private int pollNow(short events) {
        descriptors.readLock().lock();
        try {
            if (closed) {
                return -1;
            }
            Libc.pollfd[] fds = (Libc.pollfd[]) new Libc.pollfd().toArray(1);
            fds[0].fd = fd;
            fds[0].events = events;
            LIBC.poll(fds, 1, 0);
            return fds[0].revents;
        } catch (LastErrorException e) {
            return -1;
        } finally {
            descriptors.readLock().unlock();
        }
    }

    /**
     * For the write end of a pipe or FIFO: whether some process has its read end open, without waiting (the kernel
     * flags a write end with {@code POLLERR} while nobody can read); false once closed.
     */
    public boolean hasReader() {
        int revents = pollNow(Libc.POLLOUT);
        return revents >= 0 && (revents & Libc.POLLERR) == 0;
    }

    /**
     * The descriptor as a stream: reads wait for data, end-of-file is -1, and so is {@code EIO} (a terminal whose
     * other side has gone). Closing the stream closes the descriptor.
     */
    public InputStream inputStream() {
        return new InputStream() {
            /** What the descriptor holds unread ({@code FIONREAD}); 0 once closed or hung up. */
            @Override
            public int available() {
                com.sun.jna.ptr.IntByReference count = new com.sun.jna.ptr.IntByReference();
                try {
                    use("FIONREAD", fd -> LIBC.ioctl(fd, new NativeLong(Libc.FIONREAD), count));
                } catch (IOException e) {
                    return 0;
                }
                return count.getValue();
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                try {
                    return PolledDescriptor.this.read(buffer, offset, length);
                } catch (DescriptorException e) {
                    if (e.errno() == Libc.EIO) {
                        return -1;
                    }
                    throw e;
                }
            }

            @Override
            public void close() {
                PolledDescriptor.this.close();
            }
        };
    }

    /**
     * The descriptor as a stream whose writes wait while the other side is full, and which also writes without
     * waiting ({@link ImmediateInput}). Closing it closes the descriptor.
     */
    public OutputStream outputStream() {
        return new ImmediateOutputStream() {
            @Override
            public int writeWithoutWaiting(byte[] buffer, int offset, int length) throws IOException {
                return PolledDescriptor.this.writeWithoutWaiting(buffer, offset, length);
            }

            @Override
            public void write(int b) throws IOException {
                PolledDescriptor.this.write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                PolledDescriptor.this.write(buffer, offset, length);
            }

            @Override
            public void close() {
                PolledDescriptor.this.close();
            }
        };
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Native bytes held for reads and writes, asked while none is under way (for tests): none before the first read
     * or write, none once closed.
     */
    long bufferBytes() {
        reading.lock();
        writing.lock();
        try {
            return (readBuffer == null ? 0 : readBuffer.size()) + (writeBuffer == null ? 0 : writeBuffer.size());
        } finally {
            writing.unlock();
            reading.unlock();
        }
    }

    /** Ends every read and write under way, then closes the descriptor. Idempotent. */
    @Override
    public void close() {
        synchronized (closing) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                LIBC.write(wakeWrite, new Memory(1), new NativeLong(1));
            } catch (LastErrorException ignored) {
                // the pipe is full of wake-ups already
            }
        }
        descriptors.writeLock().lock(); // the wake-up sends every reader and writer out first
        try {
            closeQuietly(fd);
            closeQuietly(wakeRead);
            closeQuietly(wakeWrite);
            for (Memory buffer : new Memory[] {readBuffer, writeBuffer}) {
                if (buffer != null) {
                    buffer.close();
                }
            }
            readBuffer = null;
            writeBuffer = null;
        } finally {
            descriptors.writeLock().unlock();
        }
    }

    /** Waits until the descriptor is ready for what {@code fds} asks (or hung up); false once closing. */
    private boolean await(Libc.pollfd[] fds) throws IOException {
        while (true) {
            if (closed) {
                return false;
            }
            try {
                LIBC.poll(fds, 2, -1);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Libc.EINTR) {
                    continue;
                }
                throw new IOException("poll: " + LIBC.strerror(e.getErrorCode()), e);
            }
            if (closed || fds[1].revents != 0) {
                return false;
            }
            if (fds[0].revents != 0) {
                return true;
            }
        }
    }

    static void closeQuietly(int fd) {
        if (fd > 0) {
            try {
                LIBC.close(fd);
            } catch (LastErrorException ignored) {
                // nothing to do about a failed close of our own descriptor
            }
        }
    }

    /** An output stream that is also an {@link ImmediateInput}. */
    private abstract static class ImmediateOutputStream extends OutputStream implements ImmediateInput {
    }
}
