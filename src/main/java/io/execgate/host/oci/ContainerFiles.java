package io.execgate.host.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import io.execgate.host.BlockingThreads;
import io.execgate.host.local.Libc;
import org.jspecify.annotations.Nullable;

/**
 * Reads a small file inside a container's root with {@code openat2(RESOLVE_IN_ROOT)}: links in the path resolve
 * inside the container as they would for its processes, never to the service's own files. The path is first only
 * looked up ({@code O_PATH}, which opens nothing) and the file opened for reading only when it is a plain file: a
 * FIFO there must not hang the service or release a writer waiting on it, and a device node the container's root
 * made there (a terminal, a watchdog) must never be opened by the service. The calls run on a platform thread
 * ({@link BlockingThreads#call}): a file on a FUSE mount that never answers must not pin a request's carrier.
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
        return BlockingThreads.call("container-file", () -> readHere(root, relative, max));
    }

    private static byte @Nullable [] readHere(Path root, String relative, int max) throws IOException {
        int dir;
        try {
            dir = LIBC.open(root.toString(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open the container's root: " + LIBC.strerror(e.getErrorCode()), e);
        }
        try {
            Libc.open_how how = new Libc.open_how();
            how.flags = Libc.O_PATH | Libc.O_CLOEXEC;
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
                Path found = Path.of("/proc/self/fd/" + fd);
                if (!Files.isRegularFile(found)) {
                    throw new NotPlainFileException("/" + relative + " is not a plain file");
                }
                // Reopened through the descriptor: the very file that was checked, whatever the path names now
                int file;
                try {
                    file = LIBC.open(found.toString(), Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
                } catch (LastErrorException e) {
                    throw new IOException("cannot open /" + relative + ": " + LIBC.strerror(e.getErrorCode()), e);
                }
                try {
                    return readAll(file, relative, max);
                } finally {
                    closeQuietly(file);
                }
            } finally {
                closeQuietly(fd);
            }
        } finally {
            closeQuietly(dir);
        }
    }

    private static byte[] readAll(int fd, String relative, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Memory chunk = new Memory(64 * 1024)) { // freed now, not when a collection finds it
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
    }

    private static void closeQuietly(int fd) {
        try {
            LIBC.close(fd);
        } catch (LastErrorException ignored) {
            // our own descriptor
        }
    }
}
