package io.execgate.host.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.OptionalLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The three files of one exec, in a directory only the service can read: the process spec the runtime reads,
 * the pid file it writes, and its JSON error log. They live until the runtime has exited.
 */
final class ExecFiles {

    private static final Logger log = LoggerFactory.getLogger(ExecFiles.class);
    private static final String PREFIX = "exec-";
    private static final int MAX_LOG = 64 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path dir;

    private ExecFiles(Path dir) {
        this.dir = dir;
    }

    /** A new private directory under {@code workDir} holding {@code processSpec}. */
    static ExecFiles create(Path workDir, byte[] processSpec) throws IOException {
        Files.createDirectories(workDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path dir = Files.createTempDirectory(workDir, PREFIX,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        ExecFiles files = new ExecFiles(dir);
        try {
            Files.write(Files.createFile(files.process(),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))), processSpec,
                    StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            files.delete();
            throw e;
        }
        return files;
    }

    /** Removes what a previous run of the service left behind (it stopped before its runtimes exited). */
    static void sweep(Path workDir) {
        if (!Files.isDirectory(workDir)) {
            return;
        }
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(workDir, PREFIX + "*")) {
            for (Path dir : stale) {
                new ExecFiles(dir).delete();
            }
        } catch (IOException e) {
            log.warn("cannot clear {}: {}", workDir, e.getMessage());
        }
    }

    Path dir() {
        return dir;
    }

    Path process() {
        return dir.resolve("process.json");
    }

    Path pid() {
        return dir.resolve("pid");
    }

    Path log() {
        return dir.resolve("log.json");
    }

    /** The host pid of the started process, once the runtime has written all of it. */
    OptionalLong readPid() {
        try {
            String text = Files.readString(pid(), StandardCharsets.US_ASCII).strip();
            return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty(); // being written: read again later
        }
    }

    /** The last error the runtime logged, or empty when it logged none. */
    Optional<String> readError() {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(log())) {
            bytes = in.readNBytes(MAX_LOG);
        } catch (IOException e) {
            return Optional.empty();
        }
        String error = null;
        // One JSON object per line (runc), or objects with no newline between them (crun).
        for (String line : new String(bytes, StandardCharsets.UTF_8).replace("}{", "}\n{").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode entry = JSON.readTree(line);
                if ("error".equals(entry.path("level").asString("")) || "fatal".equals(entry.path("level").asString(""))) {
                    error = entry.path("msg").asString(line);
                }
            } catch (JacksonException e) {
                error = line.strip();
            }
        }
        return Optional.ofNullable(error);
    }

    /** Deletes the files (the runtime's temporary ones too) and the directory. Idempotent. */
    void delete() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (NoSuchFileException e) {
            // already deleted
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
