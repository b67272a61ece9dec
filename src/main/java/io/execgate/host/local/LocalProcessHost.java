package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import io.execgate.host.Environment;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import io.execgate.host.TargetRef;
import org.jspecify.annotations.Nullable;

/** Starts processes on the service's own host. */
final class LocalProcessHost implements ProcessHost {

    private static final int ENOENT = 2;
    private static final int EPERM = 1;
    private static final int EACCES = 13;
    private static final int ENOEXEC = 8;
    private static final int EISDIR = 21;
    private static final int ENOTDIR = 20;
    private static final int ENOMEM = 12;

    private final TargetRef target;
    private final LocalHostProperties properties;
    private final UserLookup users;
    private final @Nullable String setpriv;
    private final Clock clock;

    LocalProcessHost(TargetRef target, LocalHostProperties properties, UserLookup users, @Nullable String setpriv,
            Clock clock) {
        this.target = target;
        this.properties = properties;
        this.users = users;
        this.setpriv = setpriv;
        this.clock = clock;
    }

    @Override
    public TargetRef target() {
        return target;
    }

    @Override
    public HostProcess start(ProcessSpec spec) throws StartFailure {
        List<String> env = Environment.merge(properties.environment(), spec.env());
        if (spec.tty() && Environment.get(env, "TERM").isEmpty()) {
            env = Environment.merge(env, List.of("TERM=xterm")); // as Docker does for a terminal
        }
        String workingDir = spec.workingDir() != null ? spec.workingDir() : properties.workingDir();
        Path cwd = checkWorkingDir(workingDir);

        int euid = Libc.INSTANCE.geteuid();
        Credentials user = spec.user() == null ? null : users.resolve(spec.user());
        boolean switching = user != null && (user.uid() != euid || user.gid() != Libc.INSTANCE.getegid());
        if (switching && euid != 0) {
            throw new StartFailure(Kind.BAD_USER, "cannot run as " + spec.user() + ": the service does not run as root");
        }
        if (switching && setpriv == null) {
            throw new StartFailure(Kind.BAD_USER, "cannot run as " + spec.user() + ": setpriv (util-linux) is not installed");
        }
        if (Environment.get(env, "HOME").isEmpty()) {
            String home = user != null ? user.home() : users.home(euid).orElse(null);
            env = Environment.merge(env, List.of("HOME=" + (home != null ? home : "/")));
        }
        String executable = ExecutableLookup.resolve(spec.args().getFirst(), Environment.get(env, "PATH").orElse(null),
                cwd, switching ? user : null);

        String path = executable;
        List<String> argv = new ArrayList<>(spec.args());
        if (switching) {
            // setpriv execs in place, so the pid stays the command's own and signals reach it directly.
            path = setpriv;
            argv = new ArrayList<>(List.of(setpriv, "--reuid=" + user.uid(), "--regid=" + user.gid(),
                    user.groupsOf() != null ? "--init-groups" : "--clear-groups", "--", executable));
            argv.addAll(spec.args().subList(1, spec.args().size()));
        }
        try {
            // The terminal gets its size before the process exists, so the process's first look at it is right.
            // The command's pipes or terminal become its user's, so that it can open /dev/stdout or its tty.
            return LocalProcesses.start(path, new ProcessSpec(argv, env, workingDir, null, spec.tty(), spec.consoleSize(),
                    spec.openStdin(), spec.openStdout(), spec.openStderr()), switching ? user : null, clock);
        } catch (PosixSpawner.SpawnException e) {
            throw spawnFailure(spec.args().getFirst(), cwd, e);
        } catch (IOException e) {
            throw new StartFailure(Kind.BACKEND_ERROR, "cannot start " + spec.args().getFirst() + ": " + e.getMessage(), e);
        }
    }

    private static Path checkWorkingDir(String workingDir) throws StartFailure {
        Path cwd;
        try {
            cwd = Path.of(workingDir);
        } catch (InvalidPathException e) {
            throw new StartFailure(Kind.BAD_WORKING_DIR, "working directory is not a valid path: " + e.getMessage());
        }
        if (!cwd.isAbsolute()) {
            throw new StartFailure(Kind.BAD_WORKING_DIR, "working directory must be an absolute path: " + workingDir);
        }
        if (!Files.exists(cwd)) {
            throw new StartFailure(Kind.BAD_WORKING_DIR, "working directory " + workingDir + " does not exist");
        }
        if (!Files.isDirectory(cwd)) {
            throw new StartFailure(Kind.BAD_WORKING_DIR, "working directory " + workingDir + " is not a directory");
        }
        return cwd;
    }

    /**
     * The start failure for a failed spawn. posix_spawn reports a failed chdir with the same errno as a failed
     * execve, so an ENOENT or EACCES is the working directory's when the service cannot enter it now (removed since
     * the check, or not searchable by a service that is not root).
     */
    static StartFailure spawnFailure(String file, Path cwd, PosixSpawner.SpawnException e) {
        String message = "exec: \"" + file + "\": " + e.getMessage().toLowerCase(java.util.Locale.ROOT);
        if ((e.errno() == ENOENT || e.errno() == ENOTDIR || e.errno() == EACCES)
                && !(Files.isDirectory(cwd) && Files.isExecutable(cwd))) {
            return new StartFailure(Kind.BAD_WORKING_DIR, "working directory " + cwd + " cannot be entered: "
                    + e.getMessage().toLowerCase(java.util.Locale.ROOT), e);
        }
        return switch (e.errno()) {
            case ENOENT, ENOTDIR -> new StartFailure(Kind.EXECUTABLE_NOT_FOUND, message, e);
            case EACCES, EPERM, ENOEXEC, EISDIR -> new StartFailure(Kind.NOT_EXECUTABLE, message, e);
            // Out of processes (a pids limit, the kernel's threads-max) or memory: the host's state of the moment,
            // not the command's fault, so the client is told to retry (503) rather than that its command is bad (422).
            case Libc.EAGAIN, ENOMEM -> new StartFailure(Kind.BACKEND_UNAVAILABLE,
                    message + " (the host is out of processes or memory for now)", e);
            default -> new StartFailure(Kind.BACKEND_ERROR, message, e);
        };
    }
}
