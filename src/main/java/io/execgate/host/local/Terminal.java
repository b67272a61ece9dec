package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import io.execgate.host.ConsoleSize;
import io.execgate.host.ImmediateInput;

/**
 * A pseudo-terminal whose master execgate holds. The size is set on the master before the process exists, so a
 * command that asks for it at once ({@code stty size}) never sees {@code 0 0}; the process opens the slave as
 * its controlling terminal when it is spawned ({@link PosixSpawner}). The master is a {@link PolledDescriptor}, so
 * {@link #close()} ends reads and writes from any thread and closes it only once no thread uses it (a
 * descriptor closed under a reader could be reused by the next terminal, pty4j's issue 181).
 *
 * <p>Why not pty4j: it forks the JVM, sets the initial size after the fork (a fast command sees {@code 0 0}),
 * reports a signalled process as 128+n without the signal, and its output stream drops the unwritten part of
 * a partial write. execgate already spawns with {@code posix_spawn}; a terminal is a few more calls.
 */
final class Terminal implements ProcessIo {

    private static final Libc LIBC = Libc.INSTANCE;
    /** {@code VEOF}, Ctrl-D: what "close stdin" means on a terminal. */
    private static final byte EOF = 4;

    private final PolledDescriptor master;
    private final String slavePath;
    private final Optional<InputStream> output;
    private final Optional<OutputStream> input = Optional.of(new TerminalInput());

    private Terminal(PolledDescriptor master, String slavePath) {
        this.master = master;
        this.slavePath = slavePath;
        // Reads until every slave descriptor is closed and the output drained: the hang-up reads as EIO, then -1.
        this.output = Optional.of(master.inputStream());
    }

    /** Opens a terminal of this size. */
    static Terminal open(ConsoleSize size) throws IOException {
        int fd;
        try {
            fd = LIBC.open("/dev/ptmx", Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open a pseudo-terminal: " + LIBC.strerror(e.getErrorCode()), e);
        }
        String slavePath;
        try {
            LIBC.grantpt(fd);
            LIBC.unlockpt(fd);
            byte[] name = new byte[128];
            int rc = LIBC.ptsname_r(fd, name, new NativeLong(name.length));
            if (rc != 0) {
                throw new IOException("ptsname: " + LIBC.strerror(rc));
            }
            slavePath = cString(name);
        } catch (LastErrorException e) {
            PolledDescriptor.closeQuietly(fd);
            throw new IOException("cannot set up a pseudo-terminal: " + LIBC.strerror(e.getErrorCode()), e);
        } catch (IOException | RuntimeException e) {
            PolledDescriptor.closeQuietly(fd);
            throw e;
        }
        Terminal terminal = new Terminal(PolledDescriptor.of(fd), slavePath);
        try {
            terminal.resize(size);
        } catch (IOException | RuntimeException e) {
            terminal.close();
            throw e;
        }
        return terminal;
    }

    /**
     * Gives the slave to the user the command will switch to, as runc gives a container process its console:
     * otherwise the command could not open its own terminal ({@code /dev/tty}, {@code $(tty)}). The slave is
     * opened here only for the {@code fchown} and closed at once; its mode stays as {@code grantpt} left it.
     */
    void giveTo(Credentials owner) throws IOException {
        int slave;
        try {
            slave = LIBC.open(slavePath, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + slavePath + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
        try {
            LIBC.fchown(slave, owner.uid(), owner.gid());
        } catch (LastErrorException e) {
            throw new IOException("fchown of " + slavePath + ": " + LIBC.strerror(e.getErrorCode()), e);
        } finally {
            PolledDescriptor.closeQuietly(slave);
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
        master.use("resizing the terminal", fd -> LIBC.ioctl(fd, new NativeLong(Libc.TIOCSWINSZ), winsize));
    }

    @Override
    public void close() {
        master.close();
    }

    /** Keystrokes go in from the message's thread when the terminal's input queue has room ({@link ImmediateInput}). */
    private final class TerminalInput extends OutputStream implements ImmediateInput {
        @Override
        public int writeWithoutWaiting(byte[] buffer, int offset, int length) throws IOException {
            return master.writeWithoutWaiting(buffer, offset, length);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        /** Writes all of it, waiting while the terminal's input queue is full. */
        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            try {
                master.write(buffer, offset, length);
            } catch (PolledDescriptor.DescriptorException e) {
                throw new IOException("writing to the terminal failed: " + e.getMessage(), e);
            }
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
}
