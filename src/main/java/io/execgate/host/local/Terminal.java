package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import io.execgate.host.ConsoleSize;

/**
 * A pseudo-terminal whose master execgate holds. The size is set on the master before the process exists, so a
 * command that asks for it at once ({@code stty size}) never sees {@code 0 0}; the process opens the slave as
 * its controlling terminal when it is spawned ({@link PosixSpawner}). The master is non-blocking and every read
 * and write waits in {@code poll} together with a wake-up pipe, so {@link #close()} ends them from any thread
 * and closes the descriptors only once no thread uses them (a descriptor closed under a reader could be
 * reused by the next terminal, pty4j's issue 181).
 *
 * <p>Why not pty4j: it forks the JVM, sets the initial size after the fork (a fast command sees {@code 0 0}),
 * reports a signalled process as 128+n without the signal, and its output stream drops the unwritten part of
 * a partial write. execgate already spawns with {@code posix_spawn}; a terminal is a few more calls.
 */
final class Terminal implements ProcessIo {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int CHUNK = 64 * 1024;
    /** {@code VEOF}, Ctrl-D: what "close stdin" means on a terminal. */
    private static final byte EOF = 4;

    private final int master;
    private final String slavePath;
    private final int wakeRead;
    private final int wakeWrite;
    /** Shared by everything that uses the descriptors, exclusive for closing them. */
    private final ReentrantReadWriteLock descriptors = new ReentrantReadWriteLock();
    private final ReentrantLock reading = new ReentrantLock();
    private final ReentrantLock writing = new ReentrantLock();
    private final Memory readBuffer = new Memory(CHUNK);
    private final Memory writeBuffer = new Memory(CHUNK);
    private final Optional<InputStream> output = Optional.of(new TerminalOutput());
    private final Optional<OutputStream> input = Optional.of(new TerminalInput());
    private final Object closing = new Object();
    private volatile boolean closed;

    private Terminal(int master, String slavePath, int wakeRead, int wakeWrite) {
        this.master = master;
        this.slavePath = slavePath;
        this.wakeRead = wakeRead;
        this.wakeWrite = wakeWrite;
    }

    /** Opens a terminal of this size. */
    static Terminal open(ConsoleSize size) throws IOException {
        int master;
        try {
            master = LIBC.open("/dev/ptmx", Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open a pseudo-terminal: " + LIBC.strerror(e.getErrorCode()), e);
        }
        int[] wake = new int[2];
        try {
            LIBC.grantpt(master);
            LIBC.unlockpt(master);
            byte[] name = new byte[128];
            int rc = LIBC.ptsname_r(master, name, new NativeLong(name.length));
            if (rc != 0) {
                throw new IOException("ptsname: " + LIBC.strerror(rc));
            }
            LIBC.pipe2(wake, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
            Terminal terminal = new Terminal(master, cString(name), wake[0], wake[1]);
            terminal.resize(size);
            return terminal;
        } catch (LastErrorException e) {
            closeQuietly(master);
            closeQuietly(wake[0]);
            closeQuietly(wake[1]);
            throw new IOException("cannot set up a pseudo-terminal: " + LIBC.strerror(e.getErrorCode()), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(master);
            closeQuietly(wake[0]);
            closeQuietly(wake[1]);
            throw e;
        }
    }

    /** The slave's path, for the process to open. */
    String slavePath() {
        return slavePath;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return input;
    }

    @Override
    public Optional<InputStream> stdout() {
        return output;
    }

    /** A terminal merges stderr into its output. */
    @Override
    public Optional<InputStream> stderr() {
        return Optional.empty();
    }

    /**
     * A terminal has no stdin to close: Ctrl-D twice is end-of-file for the next reader even after a partial line
     * (the first sends the line on, the second is an empty read).
     */
    @Override
    public void closeStdin() throws IOException {
        input.get().write(new byte[] {EOF, EOF});
    }

    /** Sets the size; the kernel tells the terminal's foreground process group with SIGWINCH. */
    @Override
    public void resize(ConsoleSize size) throws IOException {
        Libc.winsize winsize = new Libc.winsize();
        winsize.ws_col = (short) size.width();
        winsize.ws_row = (short) size.height();
        descriptors.readLock().lock();
        try {
            if (closed) {
                throw new IOException("terminal closed");
            }
            LIBC.ioctl(master, new NativeLong(Libc.TIOCSWINSZ), winsize);
        } catch (LastErrorException e) {
            throw new IOException("resizing the terminal failed: " + LIBC.strerror(e.getErrorCode()), e);
        } finally {
            descriptors.readLock().unlock();
        }
    }

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
            closeQuietly(master);
            closeQuietly(wakeRead);
            closeQuietly(wakeWrite);
        } finally {
            descriptors.writeLock().unlock();
        }
    }

    /** Waits until the master is ready for {@code events}; false once the terminal is closing. */
    private boolean await(short events) throws IOException {
        Libc.pollfd[] fds = (Libc.pollfd[]) new Libc.pollfd().toArray(2);
        fds[0].fd = master;
        fds[0].events = events;
        fds[1].fd = wakeRead;
        fds[1].events = Libc.POLLIN;
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

    /** Reads output; -1 once the slave side is gone (the process and its children closed it) or on close. */
    private int read(byte[] buffer, int offset, int length) throws IOException {
        reading.lock();
        descriptors.readLock().lock();
        try {
            while (true) {
                if (!await(Libc.POLLIN)) {
                    return -1;
                }
                try {
                    int n = LIBC.read(master, readBuffer, new NativeLong(Math.min(length, CHUNK))).intValue();
                    if (n <= 0) {
                        return -1;
                    }
                    readBuffer.read(0, buffer, offset, n);
                    return n;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == Libc.EAGAIN || e.getErrorCode() == Libc.EINTR) {
                        continue;
                    }
                    if (e.getErrorCode() == Libc.EIO) {
                        return -1; // hung up: every slave descriptor is closed and the output drained
                    }
                    throw new IOException("reading the terminal failed: " + LIBC.strerror(e.getErrorCode()), e);
                }
            }
        } finally {
            descriptors.readLock().unlock();
            reading.unlock();
        }
    }

    /** Writes all of it, waiting while the terminal's input queue is full. */
    private void write(byte[] buffer, int offset, int length) throws IOException {
        writing.lock();
        descriptors.readLock().lock();
        try {
            int done = 0;
            while (done < length) {
                if (!await(Libc.POLLOUT)) {
                    throw new InterruptedIOException("terminal closed");
                }
                int chunk = Math.min(length - done, CHUNK);
                writeBuffer.write(0, buffer, offset + done, chunk);
                try {
                    done += LIBC.write(master, writeBuffer, new NativeLong(chunk)).intValue();
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Libc.EAGAIN && e.getErrorCode() != Libc.EINTR) {
                        throw new IOException("writing to the terminal failed: " + LIBC.strerror(e.getErrorCode()), e);
                    }
                }
            }
        } finally {
            descriptors.readLock().unlock();
            writing.unlock();
        }
    }

    private final class TerminalOutput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return Terminal.this.read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            return length == 0 ? 0 : Terminal.this.read(buffer, offset, length);
        }

        @Override
        public void close() {
            Terminal.this.close();
        }
    }

    private final class TerminalInput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            Terminal.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            Terminal.this.write(buffer, offset, length);
        }

        /** Closing a terminal's input is end-of-file, not the end of the terminal. */
        @Override
        public void close() throws IOException {
            closeStdin();
        }
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    private static void closeQuietly(int fd) {
        if (fd > 0) {
            try {
                LIBC.close(fd);
            } catch (LastErrorException ignored) {
                // nothing to do about a failed close of our own descriptor
            }
        }
    }
}
