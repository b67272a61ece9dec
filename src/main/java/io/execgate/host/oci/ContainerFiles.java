package io.execgate.host.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import io.execgate.host.local.Libc;
import org.jspecify.annotations.Nullable;

/**
 * Reads a small file inside a container's root with {@code openat2(RESOLVE_IN_ROOT)}: links in the path resolve
 * inside the container as they would for its processes, never to the service's own files, and the file is opened
 * without blocking and read only when it is a plain file (a FIFO there must not hang the service).
 */
final class ContainerFiles {

    private static final Libc LIBC = Libc.INSTANCE;
    private static final int ENOENT = 2;
    private static final int ENOTDIR = 20;

    private ContainerFiles() {
    }

    /** The file is there but not a plain file, or too large. */
    static final class NotPlainFileException extends IOException {
        NotPlainFileException(String message) {
            super(message);
        }
    }

    /**
     * The bytes of {@code relative} (no leading slash) under {@code root}, or null when there is no such file.
     *
     * @throws NotPlainFileException when it is not a regular file or holds more than {@code max} bytes
     */
    static byte @Nullable [] read(Path root, String relative, int max) throws IOException {
        int dir;
        try {
            dir = LIBC.open(root.toString(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open the container's root: " + LIBC.strerror(e.getErrorCode()), e);
        }
        try {
            Libc.open_how how = new Libc.open_how();
            how.flags = Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
            how.resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
            how.write();
            int fd;
            try {
                fd = (int) LIBC.syscall(Libc.SYS_OPENAT2, (long) dir, relative, how.getPointer(), (long) how.size());
            } catch (LastErrorException e) {
                if (e.getErrorCode() == ENOENT || e.getErrorCode() == ENOTDIR) {
                    return null;
                }
                if (e.getErrorCode() == Libc.ENOSYS) {
                    throw new IOException("reading the container's files needs Linux 5.6 (openat2)", e);
                }
                throw new IOException("cannot open /" + relative + ": " + LIBC.strerror(e.getErrorCode()), e);
            }
            try {
                if (!Files.isRegularFile(Path.of("/proc/self/fd/" + fd))) {
                    throw new NotPlainFileException("/" + relative + " is not a plain file");
                }
                return readAll(fd, relative, max);
            } finally {
                closeQuietly(fd);
            }
        } finally {
            closeQuietly(dir);
        }
    }

    private static byte[] readAll(int fd, String relative, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Memory chunk = new Memory(64 * 1024);
        while (true) {
            int n = LIBC.read(fd, chunk, new NativeLong(chunk.size())).intValue();
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == Libc.EINTR) {
                    continue;
                }
                throw new IOException("cannot read /" + relative + ": " + LIBC.strerror(errno));
            }
            if (n == 0) {
                return out.toByteArray();
            }
            if (out.size() + n > max) {
                throw new NotPlainFileException("/" + relative + " is larger than " + max + " bytes");
            }
            out.write(chunk.getByteArray(0, n), 0, n);
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LIBC.close(fd);
        } catch (LastErrorException ignored) {
            // our own descriptor
        }
    }
}
