package io.execgate.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin token of a service nobody gave a token: 256 random bits, printed once when made, and kept in
 * {@code <data-dir>/admin-token} so the next start uses it again. Whoever can change that file chooses the
 * admin token, so it is trusted only as a regular file (never through a link), owned by the service's user,
 * mode 0600, in a directory no one else may write; anything else stops the start with the reason. A new file
 * is written aside and linked into place, which fails rather than replaces when another instance was first.
 */
final class AdminTokenFile {

    private static final Logger log = LoggerFactory.getLogger(AdminTokenFile.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OTHERS_WRITE = Set.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_WRITE);

    private AdminTokenFile() {
    }

    static String readOrCreate(Path dataDir) {
        Path file = dataDir.resolve("admin-token");
        try {
            // The directory exists: DataDirectory made it (mode 0700) before the service's other beans.
            Set<PosixFilePermission> dirMode = Files.getPosixFilePermissions(dataDir);
            if (dirMode.stream().anyMatch(OTHERS_WRITE::contains)) {
                throw refuse(dataDir, "is writable by others (" + PosixFilePermissions.toString(dirMode)
                        + "); make it 0700 or set execgate.data-dir elsewhere");
            }
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return read(file);
            }
            return create(dataDir, file);
        } catch (IOException e) {
            throw refuse(file, "cannot be read or made: " + e.getMessage());
        }
    }

    private static String read(Path file) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile()) {
            throw refuse(file, "is not a regular file (a link, a directory?)");
        }
        int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != ProcessUid.VALUE) {
            throw refuse(file, "belongs to uid " + owner + ", not to the service's user (" + ProcessUid.VALUE + ")");
        }
        if (!attributes.permissions().equals(OWNER_ONLY)) {
            throw refuse(file, "has mode " + PosixFilePermissions.toString(attributes.permissions()) + "; it must be 0600");
        }
        String token;
        try (SeekableByteChannel in = Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (in.read(buffer) > 0 && buffer.hasRemaining()) {
                // read it all (a token is short)
            }
            token = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
        }
        if (!token.matches(SecurityProperties.TOKEN_SYNTAX)) {
            throw refuse(file, "holds no usable token (it " + SecurityProperties.TOKEN_RULE
                    + "); remove it to have a new one made");
        }
        log.info("No token is configured: using the admin token in {}", file.toAbsolutePath());
        return token;
    }

    private static String create(Path dataDir, Path file) throws IOException {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Path aside = Files.createTempFile(dataDir, ".admin-token", ".new", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            Files.writeString(aside, token + "\n", StandardCharsets.UTF_8);
            Files.createLink(file, aside); // fails if another instance made one meanwhile, instead of replacing it
        } catch (FileAlreadyExistsException e) {
            return read(file);
        } finally {
            Files.deleteIfExists(aside);
        }
        // The one place a token is logged: whoever starts the service needs it, and it is shown only now.
        log.warn("No token is configured: generated an admin token, shown this once and kept in {} (mode 0600):"
                + "\n\n    {}\n", file.toAbsolutePath(), token);
        return token;
    }

    private static IllegalStateException refuse(Path path, String why) {
        return new IllegalStateException("The admin token file " + path.toAbsolutePath() + " " + why);
    }

    /** The service's own uid, read once: the owner of /proc/self. */
    private static final class ProcessUid {
        static final int VALUE = read();

        private static int read() {
            try {
                return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            } catch (IOException e) {
                return -1;
            }
        }
    }
}
