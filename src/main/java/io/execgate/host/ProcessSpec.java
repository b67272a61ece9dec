package io.execgate.host;

import java.util.List;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * What to start, in the shape of an OCI process spec.
 *
 * @param args        argv; the first element names the executable (looked up in the {@code PATH} of
 *                    {@code env} when it has no slash)
 * @param env         {@code KEY=VALUE} entries added to the backend's base environment, later entries winning
 * @param workingDir  the working directory, or null for the backend's default
 * @param user        {@code uid[:gid]} or {@code name[:group]}, or null for the backend's default
 * @param tty         run on a terminal: stdout and stderr are merged and there is no stderr stream
 * @param consoleSize the terminal's first size, used with {@code tty}
 * @param openStdin   give the process a stdin pipe (otherwise it reads end-of-file)
 * @param openStdout  give the process a stdout pipe (otherwise its output is discarded)
 * @param openStderr  give the process a stderr pipe (otherwise its output is discarded); ignored with {@code tty}
 */
public record ProcessSpec(List<String> args, List<String> env, @Nullable String workingDir, @Nullable String user,
        boolean tty, @Nullable ConsoleSize consoleSize, boolean openStdin, boolean openStdout, boolean openStderr) {

    public ProcessSpec {
        args = List.copyOf(args);
        env = List.copyOf(env);
        if (args.isEmpty() || args.getFirst().isEmpty()) {
            throw new IllegalArgumentException("args must name an executable");
        }
        Objects.requireNonNull(env, "env");
    }
}
