package io.execgate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
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

    /**
     * The lock files this process holds, by file key, with how each holder named itself. A second service in this
     * process is refused from here, without opening the file: POSIX drops every lock a process has on a file when
     * any of its descriptors of that file closes, so opening and closing it again would unlock the first.
     */
    private static final Map<Object, String> HELD = new HashMap<>(); // guarded by itself

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;
    private final Object key;

    private DataDirectory(Path path, FileChannel channel, FileLock lock, Object key) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
        this.key = key;
    }

    /**
     * Creates the directory if it is missing (mode 0700) and locks it.
     *
     * @throws DataDirectoryException when another service holds it, or it cannot be made or written
     */
    public static DataDirectory lock(Path dir) {
        synchronized (HELD) {
            Path path = dir.toAbsolutePath().normalize();
            Path file = path.resolve(LOCK_FILE);
            try {
                if (!Files.isDirectory(path)) {
                    Files.createDirectories(path, ownerOnly("rwx------"));
                }
            } catch (IOException e) {
                throw new DataDirectoryException(path, "cannot be created: " + reason(e));
            }
            Object key = existingFileKey(path, file);
            String heldHere = key == null ? null : HELD.get(key);
            if (heldHere != null) {
                throw inUse(path, heldHere); // without opening the file: see HELD
            }
            FileChannel channel;
            try {
                channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), ownerOnly("rw-------"));
            } catch (IOException e) {
                throw new DataDirectoryException(path, "cannot be written: opening " + file + " failed: " + reason(e));
            }
            try {
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    throw inUse(path, holder(channel));
                }
                key = existingFileKey(path, file);
                String holder = "pid " + ProcessHandle.current().pid() + ", locked at " + Instant.now();
                DataDirectory held = new DataDirectory(path, channel, lock, key != null ? key : file);
                held.nameHolder(holder);
                HELD.put(held.key, holder);
                return held;
            } catch (IOException e) {
                closeQuietly(channel);
                throw new DataDirectoryException(path, "cannot be locked through " + file + ": " + reason(e));
            } catch (OverlappingFileLockException e) {
                // Held here under a key that did not match (no file keys, as on Windows, whose locks closing leaves).
                closeQuietly(channel);
                throw inUse(path, "pid " + ProcessHandle.current().pid() + ", this process");
            } catch (RuntimeException e) {
                closeQuietly(channel);
                throw e;
            }
        }
    }

    private static DataDirectoryException inUse(Path path, String holder) {
        return new DataDirectoryException(path, "is in use by another execgate (" + holder + "). A second service on it "
                + "would take the first's running execs for lost ones and kill its UVMs");
    }

    /**
     * The lock file's identity (device and inode), or null while there is none. A link or anything but a regular
     * file is refused: the service, often root, would truncate whatever it points to.
     */
    private static @Nullable Object existingFileKey(Path path, Path file) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException none) {
            return null;
        } catch (IOException e) {
            throw new DataDirectoryException(path, "cannot be used: " + file + " cannot be read: " + reason(e));
        }
        if (!attributes.isRegularFile()) {
            throw new DataDirectoryException(path, "cannot be used: " + file + " is " + (attributes.isSymbolicLink()
                    ? "a symbolic link" : "not a regular file") + "; remove it (execgate makes its lock file itself)");
        }
        return attributes.fileKey();
    }

    /** A mode for a new file or directory, where the file system has POSIX modes (Windows has ACLs instead). */
    private static FileAttribute<?>[] ownerOnly(String mode) {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode))};
    }

    private void nameHolder(String holder) throws IOException {
        byte[] text = (holder + "\n").getBytes(StandardCharsets.UTF_8);
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
        synchronized (HELD) {
            try {
                lock.release();
            } catch (IOException e) {
                log.warn("releasing the lock on {} failed: {}", path, e.getMessage());
            }
            closeQuietly(channel);
            HELD.remove(key);
        }
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
