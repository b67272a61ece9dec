package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import io.execgate.host.StartFailure;
import org.jspecify.annotations.Nullable;

/**
 * Finds the executable for {@code argv[0]} the way {@code execvp} and Go's {@code exec.LookPath} (and so runc)
 * do, but in the exec's own {@code PATH} and for the user it will run as, so that "not found" and
 * "not executable" become typed start failures with the messages users know.
 */
final class ExecutableLookup {

    private ExecutableLookup() {
    }

    /**
     * Returns the path to execute: {@code file} itself when it contains a slash (relative to {@code workingDir}),
     * else the first executable match in {@code pathVariable}.
     *
     * @param asUser the credentials to check the execute permission for, or null for the service's own
     */
    static String resolve(String file, @Nullable String pathVariable, Path workingDir, @Nullable Credentials asUser)
            throws StartFailure {
        try {
            return lookUp(file, pathVariable, workingDir, asUser);
        } catch (InvalidPathException e) {
            throw new StartFailure(StartFailure.Kind.EXECUTABLE_NOT_FOUND, "exec: \"" + file + "\": not a valid path");
        }
    }

    private static String lookUp(String file, @Nullable String pathVariable, Path workingDir, @Nullable Credentials asUser)
            throws StartFailure {
        if (file.contains("/")) {
            Path candidate = workingDir.resolve(file);
            if (!Files.exists(candidate)) {
                throw new StartFailure(StartFailure.Kind.EXECUTABLE_NOT_FOUND,
                        "exec: \"" + file + "\": stat " + file + ": no such file or directory");
            }
            if (Files.isDirectory(candidate)) {
                throw new StartFailure(StartFailure.Kind.NOT_EXECUTABLE, "exec: \"" + file + "\": is a directory");
            }
            if (!canExecute(candidate, asUser)) {
                throw new StartFailure(StartFailure.Kind.NOT_EXECUTABLE, "exec: \"" + file + "\": permission denied");
            }
            return file;
        }
        if (pathVariable != null) {
            for (String dir : pathVariable.split(":", -1)) {
                Path candidate = workingDir.resolve(dir.isEmpty() ? "." : dir).resolve(file);
                if (Files.isRegularFile(candidate) && canExecute(candidate, asUser)) {
                    return candidate.toString();
                }
            }
        }
        throw new StartFailure(StartFailure.Kind.EXECUTABLE_NOT_FOUND,
                "exec: \"" + file + "\": executable file not found in $PATH");
    }

    private static boolean canExecute(Path file, @Nullable Credentials user) {
        if (user == null) {
            return Files.isExecutable(file);
        }
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            int owner = (Integer) Files.getAttribute(file, "unix:uid");
            int group = (Integer) Files.getAttribute(file, "unix:gid");
            if (user.uid() == 0) {
                return (mode & 0111) != 0;
            }
            if (user.uid() == owner) {
                return (mode & 0100) != 0;
            }
            if (user.isMember(group)) {
                return (mode & 0010) != 0;
            }
            return (mode & 0001) != 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
