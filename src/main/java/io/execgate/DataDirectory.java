package io.execgate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's data directory ({@code execgate.data-dir}), held for the life of the service by a lock on
 * {@code execgate.lock} in it. Everything that keeps state there takes this bean, so the lock is taken before any of
 * it is touched and let go after all of it is closed.
 *
 * <p>Why: a service starting on a directory another one uses would take the other's work for leftovers of a
 * crash. It would mark the other's running execs lost in the records, kill the QEMU of its UVMs and remove their
 * directories, and sweep its upstream FIFOs. With the lock it stops before any of that, naming the holder.
 *
 * <p>The lock is an {@code fcntl} lock (Java's {@link FileLock}), so the kernel drops it when the holder dies,
 * even by SIGKILL: a crashed service never blocks the next start. The file names the holder's pid for the message;
 * it is never removed, since removing a lock file lets two services lock two different files of the same name.
 */
public final class DataDirectory implements AutoCloseable {

    static final String LOCK_FILE = "execgate.lock";
    private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectory(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates the directory if it is missing (mode 0700) and locks it.
     *
     * @throws DataDirectoryException when another service holds it, or it cannot be made or written
     */
    public static DataDirectory lock(Path dir) {
        Path path = dir.toAbsolutePath().normalize();
        Path file = path.resolve(LOCK_FILE);
        try {
            if (!Files.isDirectory(path)) {
                Files.createDirectories(path, ownerOnly("rwx------"));
            }
        } catch (IOException e) {
            throw new DataDirectoryException(path, "cannot be created: " + reason(e));
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE), ownerOnly("rw-------"));
        } catch (IOException e) {
            throw new DataDirectoryException(path, "cannot be written: opening " + file + " failed: " + reason(e));
        }
        try {
            FileLock lock = tryLock(channel);
            if (lock == null) {
                throw new DataDirectoryException(path, "is in use by another execgate (" + holder(channel) + "). A second "
                        + "service on it would take the first's running execs for lost ones and kill its UVMs");
            }
            DataDirectory held = new DataDirectory(path, channel, lock);
            held.nameHolder();
            return held;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DataDirectoryException(path, "cannot be locked through " + file + ": " + reason(e));
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** A mode for a new file or directory, where the file system has POSIX modes (Windows has ACLs instead). */
    private static FileAttribute<?>[] ownerOnly(String mode) {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode))};
    }

    /** Null when another process, or another service in this one, holds the lock. */
    private static @Nullable FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException inThisProcess) {
            return null;
        }
    }

    private void nameHolder() throws IOException {
        byte[] text = ("pid " + ProcessHandle.current().pid() + ", locked at " + Instant.now() + "\n")
                .getBytes(StandardCharsets.UTF_8);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(text), 0);
    }

    /** What the holder wrote into the file: read without the lock, which only guards against a second holder. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer text = ByteBuffer.allocate(256);
            channel.read(text, 0);
            String written = new String(text.array(), 0, text.position(), StandardCharsets.UTF_8).strip();
            return written.isEmpty() ? "it has not named itself yet" : written;
        } catch (IOException e) {
            return "its lock file cannot be read: " + e.getMessage();
        }
    }

    /** The directory, absolute. */
    public Path path() {
        return path;
    }

    /** The directory's entry of this name. */
    public Path resolve(String name) {
        return path.resolve(name);
    }

    /** Lets the directory go; called last, when everything that used it is closed. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            log.warn("releasing the lock on {} failed: {}", path, e.getMessage());
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing drops the lock too; nothing more to free
        }
    }

    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getClass().getSimpleName() + " " + e.getMessage() : e.toString();
    }
}
