package io.execgate.upstream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import io.execgate.host.local.Libc;
import io.execgate.host.local.PolledDescriptor;

/** Making and opening FIFOs without blocking: an open that waits for the other side could not be cancelled. */
final class Fifos {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private Fifos() {
    }

    /** No process has the FIFO open for reading, so it cannot be opened for writing yet. */
    static final class NoReaderException extends IOException {
        NoReaderException(Path path) {
            super("no reader has " + path + " open");
        }
    }

    /** The path names nothing (yet, or for now: a reader that restarts may remove and make its FIFO again). */
    static final class MissingException extends IOException {
        MissingException(Path path) {
            super(path + " does not exist");
        }
    }

    /** Makes a FIFO only the service's user can open. */
    static void make(Path path) throws IOException {
        try {
            LIBC.mkfifo(path.toString(), 0600);
        } catch (LastErrorException e) {
            throw new IOException("mkfifo " + path + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
    }

    /** Fails unless {@code path} is a FIFO (links are not followed: the caller names the FIFO itself). */
    static void check(Path path) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new MissingException(path);
        }
        if ((mode & S_IFMT) != S_IFIFO) {
            throw new IOException(path + " is not a FIFO");
        }
    }

    /** Opens the FIFO's write end; {@link NoReaderException} while nobody reads it. */
    static PolledDescriptor openForWriting(Path path) throws IOException {
        return open(path, Libc.O_WRONLY);
    }

    /**
     * Opens the FIFO's read end. It reads nothing until a writer comes, and end-of-file once a writer has come and
     * gone.
     */
    static PolledDescriptor openForReading(Path path) throws IOException {
        return open(path, Libc.O_RDONLY);
    }

    /**
     * Opens both ends at once: never waits, and a reader that opens its end later (a logging driver) does not wait
     * for a writer either. No EPIPE comes this way: who uses it watches the reader otherwise.
     */
    static PolledDescriptor openBothEnds(Path path) throws IOException {
        return open(path, Libc.O_RDWR);
    }

    /**
     * Opens without following a link anywhere in the path ({@code openat2(RESOLVE_NO_SYMLINKS)}), so that no swap of
     * a directory or the file itself for a link can make the service open another file; then checks that what it
     * opened is a FIFO before anything is read or written.
     */
    private static PolledDescriptor open(Path path, int access) throws IOException {
        check(path);
        int flags = access | Libc.O_NONBLOCK | Libc.O_CLOEXEC | Libc.O_NOFOLLOW;
        int fd;
        try {
            Libc.open_how how = new Libc.open_how();
            how.flags = flags;
            how.resolve = Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;
            how.write();
            fd = (int) LIBC.syscall(Libc.SYS_OPENAT2, (long) Libc.AT_FDCWD, path.toString(), how.getPointer(),
                    (long) how.size());
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Libc.ENXIO) {
                throw new NoReaderException(path);
            }
            if (e.getErrorCode() == Libc.ENOENT) {
                throw new MissingException(path);
            }
            if (e.getErrorCode() == Libc.ELOOP) {
                throw new IOException(path + " goes through a symbolic link; name the FIFO by its real path");
            }
            throw new IOException("open " + path + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
        PolledDescriptor descriptor = PolledDescriptor.of(fd);
        int mode;
        try {
            mode = (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:mode");
        } catch (IOException | RuntimeException e) {
            descriptor.close();
            throw new IOException("cannot check what " + path + " is: " + e.getMessage(), e);
        }
        if ((mode & S_IFMT) != S_IFIFO) {
            descriptor.close();
            throw new IOException(path + " is not a FIFO");
        }
        return descriptor;
    }
}
