package io.execgate.records;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where sqlite-jdbc extracts its native library (1 MiB): a 0700 directory of the service's own in
 * {@code java.io.tmpdir}, named for its data directory and emptied at start. Left to itself, sqlite-jdbc extracts a
 * new copy into {@code java.io.tmpdir} at every start and removes it only at a normal exit, so each SIGKILL left one
 * for good. The data directory's lock, held by now, shows that no other service uses this directory. A directory
 * the operator chose ({@code -Dorg.sqlite.tmpdir}) is left to them; so is the library's default when the
 * directory is not safely the service's (another user's, a link, open to others), since a library loaded from
 * there runs as the service.
 */
final class SqliteLibraryDirectory {

    static final String PROPERTY = "org.sqlite.tmpdir";
    private static final Logger log = LoggerFactory.getLogger(SqliteLibraryDirectory.class);

    private SqliteLibraryDirectory() {
    }

    /** Points sqlite-jdbc at the service's directory for {@code dataDir}, unless the property is set already. */
    static void use(Path dataDir) {
        if (System.getProperty(PROPERTY) != null) {
            return; // the operator's choice, or an earlier service in this JVM: the library is extracted once a JVM
        }
        Path dir = prepare(Path.of(System.getProperty("java.io.tmpdir")), dataDir);
        if (dir != null) {
            System.setProperty(PROPERTY, dir.toString());
        }
    }

    /** The directory, made or emptied of what a killed service left; null when it cannot be trusted or made. */
    static @Nullable Path prepare(Path tmp, Path dataDir) {
        Path dir = tmp.resolve(name(dataDir));
        try {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                String untrusted = untrusted(dir);
                if (untrusted != null) {
                    log.warn("{} {}: sqlite-jdbc extracts its library into {} as it does by default", dir, untrusted, tmp);
                    return null;
                }
                emptyOut(dir);
            }
            // Registered before the library's own files are, so removed after them at a normal exit.
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("cannot prepare {} for sqlite-jdbc's library ({}); it goes into {} as by default", dir, e, tmp);
            return null;
        }
    }

    /** The directory's name in {@code java.io.tmpdir}: one per data directory. */
    static String name(Path dataDir) {
        return "execgate-sqlite-" + digest(dataDir.toAbsolutePath().normalize().toString());
    }

    private static @Nullable String untrusted(Path dir) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isDirectory()) {
            return "is not a directory";
        }
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (!owner.equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
            return "belongs to another user";
        }
        if (!PosixFilePermissions.toString(attributes.permissions()).equals("rwx------")) {
            return "is open to others (" + PosixFilePermissions.toString(attributes.permissions()) + ")";
        }
        return null;
    }

    /** Removes the files a service killed with SIGKILL left (the library and its lock file). */
    private static void emptyOut(Path dir) throws IOException {
        try (DirectoryStream<Path> left = Files.newDirectoryStream(dir)) {
            for (Path file : left) {
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(file)) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
