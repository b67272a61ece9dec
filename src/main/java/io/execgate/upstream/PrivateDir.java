package io.execgate.upstream;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A directory only the service's user can enter, for the FIFOs of one exec; removed with what is in it. */
final class PrivateDir {

    private static final Logger log = LoggerFactory.getLogger(PrivateDir.class);

    private PrivateDir() {
    }

    static Path create(Path parent, String name) throws IOException {
        Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return Files.createDirectory(parent.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Deletes the directory and its entries (FIFOs, nothing deeper). Idempotent. */
    static void delete(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Files.deleteIfExists(entry);
            }
            Files.deleteIfExists(dir);
        } catch (NoSuchFileException e) {
            // gone already
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }

    /** Removes every directory under {@code parent}: what a previous run of the service left. */
    static void sweep(Path parent) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent)) {
            for (Path dir : dirs) {
                delete(dir);
            }
        } catch (IOException e) {
            log.warn("cannot clear {}: {}", parent, e.getMessage());
        }
    }
}
