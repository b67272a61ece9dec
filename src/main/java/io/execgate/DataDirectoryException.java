package io.execgate;

import java.nio.file.Path;

/** The data directory cannot be held: another service has it, or it cannot be made or written. */
public final class DataDirectoryException extends RuntimeException {

    private final Path dir;

    DataDirectoryException(Path dir, String problem) {
        super("the data directory " + dir + " " + problem);
        this.dir = dir;
    }

    /** The directory, absolute. */
    public Path dir() {
        return dir;
    }
}
