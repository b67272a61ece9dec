package io.execgate.records;

import java.nio.file.Path;

/** The records database cannot be opened, read or written: the service must not start (or go on) without it. */
final class RecordsUnavailableException extends RuntimeException {

    private final Path file;

    RecordsUnavailableException(Path file, String problem, Throwable cause) {
        super("the exec records database " + file + " " + problem + ": " + rootMessage(cause), cause);
        this.file = file;
    }

    RecordsUnavailableException(Path file, String problem) {
        super("the exec records database " + file + " " + problem);
        this.file = file;
    }

    Path file() {
        return file;
    }

    static String rootMessage(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
