package io.execgate.exec;

import java.time.Duration;
import java.util.List;

import io.execgate.host.ProcessSpec;
import io.execgate.upstream.UpstreamPlan;
import org.jspecify.annotations.Nullable;

/** A validated exec request, whichever endpoint it came through. */
record ExecOptions(List<String> command, List<String> env, @Nullable String workingDir, @Nullable String user,
        boolean tty, boolean stdin, @Nullable TerminalSize consoleSize, int timeoutSeconds, boolean stdout,
        boolean stderr, @Nullable UpstreamPlan upstream) {

    ExecOptions(List<String> command, List<String> env, @Nullable String workingDir, @Nullable String user,
            boolean tty, boolean stdin, @Nullable TerminalSize consoleSize, int timeoutSeconds) {
        this(command, env, workingDir, user, tty, stdin, consoleSize, timeoutSeconds, true, true, null);
    }

    /** The same, with only the output streams a client asked for (the one-step WebSocket form). */
    ExecOptions withOutputs(boolean wantStdout, boolean wantStderr) {
        return new ExecOptions(command, env, workingDir, user, tty, stdin, consoleSize, timeoutSeconds, wantStdout,
                wantStderr, upstream);
    }

    ProcessSpec toSpec() {
        boolean tiedStdin = upstream != null && upstream.tiesStdin();
        return new ProcessSpec(command, env, workingDir, user, tty,
                consoleSize == null ? null : consoleSize.toConsoleSize(), stdin || tiedStdin, stdout || tty, stderr && !tty);
    }

    Duration timeout() {
        return Duration.ofSeconds(timeoutSeconds);
    }
}
