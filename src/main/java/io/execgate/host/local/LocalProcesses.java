package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import io.execgate.host.ConsoleSize;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import org.jspecify.annotations.Nullable;

/**
 * Starts helper programs (an OCI runtime) as local processes with the same spawner, pipes and terminals as the
 * host backend, whether or not the host itself is offered as a target. The caller gives the environment in full
 * and names the executable by its absolute path; nothing is looked up or added.
 */
public final class LocalProcesses {

    private static final ConsoleSize DEFAULT_CONSOLE = new ConsoleSize(80, 24);

    private LocalProcesses() {
    }

    /**
     * Finds a helper program: an absolute path as given, or a name looked up in the service's {@code PATH} and the
     * sbin directories, in absolute entries only (a relative entry would name a different binary from every
     * working directory). Only a regular, executable file counts.
     */
    public static Optional<Path> locate(String program) {
        if (program.contains("/")) {
            Path path = Path.of(program);
            return path.isAbsolute() && Files.isRegularFile(path) && Files.isExecutable(path) ? Optional.of(path)
                    : Optional.empty();
        }
        String searchPath = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin")
                + ":/usr/local/sbin:/usr/sbin:/sbin";
        for (String dir : searchPath.split(":")) {
            if (dir.startsWith("/")) {
                Path candidate = Path.of(dir, program);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Starts {@code executable} with {@code spec}'s argv, as the service's own user. The process leads its own session; on a terminal it is the
     * terminal's session leader, so a resize reaches it as {@code SIGWINCH}.
     *
     * @throws IOException when the program cannot be started; nothing is left running or open
     */
    public static HostProcess start(String path, ProcessSpec spec, Clock clock) throws IOException {
        return start(path, spec, null, clock);
    }

    /**
     * As {@link #start(String, ProcessSpec, Clock)}, for a command that switches to {@code owner} itself
     * ({@code setpriv}): its pipes or its terminal are that user's.
     */
    static HostProcess start(String path, ProcessSpec spec, @Nullable Credentials owner, Clock clock)
            throws IOException {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a helper program is named by its absolute path: " + path);
        }
        if (spec.user() != null) {
            throw new IllegalArgumentException("a helper program runs as the service's user");
        }
        String workingDir = spec.workingDir() != null ? spec.workingDir() : "/";
        if (spec.tty()) {
            Terminal terminal = Terminal.open(spec.consoleSize() != null ? spec.consoleSize() : DEFAULT_CONSOLE);
            try {
                if (owner != null) {
                    terminal.giveTo(owner);
                }
                int pid = PosixSpawner.spawnOnTerminal(path, spec.args(), spec.env(), workingDir, terminal.slavePath());
                return LocalProcess.watch(pid, terminal, clock);
            } catch (IOException | RuntimeException e) {
                terminal.close();
                throw e;
            }
        }
        PosixSpawner.Spawned spawned = PosixSpawner.spawn(path, spec.args(), spec.env(), workingDir, spec.openStdin(),
                spec.openStdout(), spec.openStderr(), owner);
        return LocalProcess.watch(spawned.pid(), new PipeIo(spawned.stdin(), spawned.stdout(), spawned.stderr()), clock);
    }
}
