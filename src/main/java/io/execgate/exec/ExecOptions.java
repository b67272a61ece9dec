package io.execgate.exec;

import java.time.Duration;
import java.util.List;

import io.execgate.host.ProcessSpec;
import org.jspecify.annotations.Nullable;

/** A validated exec request, whichever endpoint it came through. */
record ExecOptions(List<String> command, List<String> env, @Nullable String workingDir, @Nullable String user,
        boolean tty, boolean stdin, @Nullable TerminalSize consoleSize, int timeoutSeconds) {

    ProcessSpec toSpec() {
        return new ProcessSpec(command, env, workingDir, user, tty,
                consoleSize == null ? null : consoleSize.toConsoleSize(), stdin, true, !tty);
    }

    Duration timeout() {
        return Duration.ofSeconds(timeoutSeconds);
    }
}
