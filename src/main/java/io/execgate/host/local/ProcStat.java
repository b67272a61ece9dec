package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jspecify.annotations.Nullable;

/**
 * Reading processes from {@code /proc}: the process directories, and the fields of a process's {@code stat}.
 * Shared by the host backend's session kill and the container backend's process-group checks.
 */
public final class ProcStat {

    /** Field indexes after the command name: state, parent, process group, session, start time (clock ticks). */
    public static final int STATE = 0;
    public static final int PARENT = 1;
    public static final int GROUP = 2;
    public static final int SESSION = 3;
    public static final int START_TIME = 19;

    private ProcStat() {
    }

    /** The directories of the processes that exist now ({@code /proc/<pid>}); the caller closes the stream. */
    public static DirectoryStream<Path> processes() throws IOException {
        return Files.newDirectoryStream(Path.of("/proc"), p -> isNumber(p.getFileName().toString()));
    }

    public static Path of(long pid) {
        return Path.of("/proc", Long.toString(pid));
    }

    /**
     * The fields of the process's {@code stat} after its command name (see the indexes above), or null when the
     * process is gone or its line is short.
     */
    public static String @Nullable [] fields(Path process) {
        try {
            String stat = Files.readString(process.resolve("stat"));
            // pid (comm) state ppid ...: the command name may hold spaces and parentheses, so count from the last ')'
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields.length > START_TIME ? fields : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean isNumber(String name) {
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }
}
