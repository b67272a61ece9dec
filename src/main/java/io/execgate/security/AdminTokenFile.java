package io.execgate.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin token of a service nobody gave a token: 256 random bits, printed once when made, and kept in
 * {@code <data-dir>/admin-token} (mode 0600, in a 0700 directory) so the next start uses it again.
 */
final class AdminTokenFile {

    private static final Logger log = LoggerFactory.getLogger(AdminTokenFile.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private AdminTokenFile() {
    }

    static String readOrCreate(Path dataDir) {
        Path file = dataDir.resolve("admin-token");
        try {
            if (Files.exists(file)) {
                String token = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (token.isEmpty()) {
                    throw new IllegalStateException(file + " is empty; remove it to have a new token made");
                }
                if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
                    Files.setPosixFilePermissions(file, OWNER_ONLY);
                }
                log.info("No token is configured: using the admin token in {}", file.toAbsolutePath());
                return token;
            }
            Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.writeString(Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY)), token + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            // The one place a token is logged: whoever starts the service needs it, and it is shown only now.
            log.warn("No token is configured: generated an admin token, shown this once and kept in {} (mode 0600):"
                    + "\n\n    {}\n", file.toAbsolutePath(), token);
            return token;
        } catch (FileAlreadyExistsException e) {
            return readOrCreate(dataDir); // another instance made it first
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the admin token file " + file.toAbsolutePath()
                    + ": " + e.getMessage(), e);
        }
    }
}
