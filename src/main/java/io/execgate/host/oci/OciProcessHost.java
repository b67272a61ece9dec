package io.execgate.host.oci;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.execgate.host.ConsoleSize;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import io.execgate.host.TargetRef;
import io.execgate.host.local.LocalProcesses;
import io.execgate.host.local.PidFd;
import io.execgate.host.oci.RuntimeCommand.CommandException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One container as a place to run processes: {@code <runtime> exec --process <file>} in the foreground, on a
 * terminal of the service's when the exec has one.
 */
final class OciProcessHost implements ProcessHost {

    private static final Logger log = LoggerFactory.getLogger(OciProcessHost.class);
    private static final ConsoleSize DEFAULT_CONSOLE = new ConsoleSize(80, 24);
    private static final Duration SHORT_POLLS = Duration.ofMillis(100);

    private final TargetRef target;
    private final OciRuntime runtime;
    private final Path root;
    private final String id;
    private final Path workDir;
    private final Duration startTimeout;
    private final Duration outputGrace;
    private final Clock clock;
    private final RunningContainers containers;

    OciProcessHost(TargetRef target, OciRuntime runtime, Path root, String id, Path workDir, Duration startTimeout,
            Duration outputGrace, Clock clock, RunningContainers containers) {
        this.target = target;
        this.runtime = runtime;
        this.root = root;
        this.id = id;
        this.workDir = workDir;
        this.startTimeout = startTimeout;
        this.outputGrace = outputGrace;
        this.clock = clock;
        this.containers = containers;
    }

    @Override
    public TargetRef target() {
        return target;
    }

    @Override
    public HostProcess start(ProcessSpec spec) throws StartFailure {
        RunningContainers.Known known = containers.running(runtime, root, id);
        OciContainer container = known.container();
        JsonNode containerProcess = known.process();
        ContainerUsers.Identity own = ExecProcessSpec.containerUser(containerProcess);
        ContainerUsers.Identity identity = spec.user() == null ? own : resolveUser(container, spec.user(), own);
        ConsoleSize size = spec.consoleSize() != null ? spec.consoleSize() : DEFAULT_CONSOLE;
        byte[] processSpec = ExecProcessSpec.build(containerProcess, spec, identity, size);

        ExecFiles files;
        try {
            files = ExecFiles.create(workDir, processSpec);
        } catch (IOException e) {
            throw new StartFailure(Kind.BACKEND_ERROR, "cannot write the process spec under " + workDir + ": " + e.getMessage(), e);
        }
        HostProcess process;
        try {
            process = LocalProcesses.start(runtime.binary().toString(), new ProcessSpec(
                    runtime.execCommand(root, id, files), RuntimeCommand.ENVIRONMENT, files.dir().toString(), null,
                    spec.tty(), size, spec.openStdin(), spec.openStdout(), spec.openStderr()), clock);
        } catch (IOException | RuntimeException e) {
            files.delete();
            throw new StartFailure(Kind.BACKEND_ERROR, "cannot run " + runtime.binary() + ": " + e.getMessage(), e);
        }
        return awaitStart(process, files, container, spec.tty());
    }

    /**
     * Resolves a user in the container's own files, seen through its init's root. A pidfd on the init, still alive
     * after the files were read, shows that they were the container's and not a process's that took its pid.
     */
    private ContainerUsers.Identity resolveUser(OciContainer container, String user, ContainerUsers.Identity own)
            throws StartFailure {
        try (PidFd init = PidFd.open(container.pid())) {
            if (init == null) {
                throw new StartFailure(Kind.TARGET_GONE, "container " + id + " stopped");
            }
            ContainerUsers users = new ContainerUsers(Path.of("/proc", Long.toString(container.pid()), "root"));
            ContainerUsers.Identity identity = ContainerUsers.withAddedGroups(users.resolve(user), own,
                    users.resolve(Long.toString(own.uid())));
            if (init.exited()) {
                throw new StartFailure(Kind.TARGET_GONE, "container " + id + " stopped");
            }
            return identity;
        } catch (IOException e) {
            throw new StartFailure(Kind.BACKEND_ERROR, e.getMessage(), e);
        }
    }

    /**
     * Waits for the runtime to write the process's pid (the process has started) or to exit (it could not start:
     * its log says why). A runtime that does neither in time is killed.
     */
    private HostProcess awaitStart(HostProcess process, ExecFiles files, OciContainer container, boolean tty)
            throws StartFailure {
        long began = System.nanoTime();
        long deadline = began + startTimeout.toNanos();
        try {
            while (true) {
                OptionalLong pid = files.readPid();
                if (pid.isPresent()) {
                    return started(process, files, pid.getAsLong(), container, tty);
                }
                if (process.onExit().isDone()) {
                    pid = files.readPid();
                    if (pid.isPresent()) {
                        return started(process, files, pid.getAsLong(), container, tty); // a quick one: it has run already
                    }
                    throw startFailure(process.onExit().join().exitCode(), files);
                }
                if (System.nanoTime() > deadline) {
                    // Did not answer in time (a runtime stuck on a busy host): 503 and Retry-After, as for the host's
                    // own EAGAIN, rather than a 422 that says this request was wrong
                    throw new StartFailure(Kind.BACKEND_UNAVAILABLE, runtime.name() + " did not start the process within "
                            + startTimeout + " (execgate.backends.oci.start-timeout)");
                }
                try {
                    // Every millisecond at first: runc writes the pid file 15 to 25 ms in, and each poll is a failed
                    // open; every 5 once the start takes longer than usual.
                    long waited = System.nanoTime() - began;
                    process.onExit().get(waited < SHORT_POLLS.toNanos() ? 1 : 5, TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException ignored) {
                    // look again
                }
            }
        } catch (StartFailure | RuntimeException | Error e) {
            // An Error too (no thread for the relays, a class that will not load): the runtime and the process it
            // started are running, and nothing else holds them.
            abandon(process, files);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(process, files);
            throw new StartFailure(Kind.BACKEND_ERROR, "interrupted while " + runtime.name() + " started the process", e);
        }
    }

    /**
     * Takes a pidfd on the started process. The pid came from a file: it is the runtime's child (the runtime, the
     * service's unreaped child, still runs) or it has gone and may be another process's now, which is then left
     * alone.
     */
    private HostProcess started(HostProcess process, ExecFiles files, long pid, OciContainer container, boolean tty)
            throws StartFailure {
        PidFd pidfd;
        try {
            pidfd = PidFd.open(pid);
        } catch (IOException e) {
            throw new StartFailure(Kind.BACKEND_ERROR, e.getMessage(), e);
        }
        if (pidfd != null && !(ProcessGroup.parentOf(pid) == process.pid() && !process.onExit().isDone())) {
            pidfd.close();
            pidfd = null;
        }
        return new OciProcess(process, pid, pidfd, files, new OciProcess.Context(id, container.pid(), tty,
                runtime.forwardsResize(), outputGrace, this::stillRunning));
    }

    /** Whether the container still runs; true when that cannot be told, so a process is not called lost wrongly. */
    private boolean stillRunning() {
        if (containers.initExited(root, id)) {
            return false; // its init has exited, though the runtime may still call a zombie init running
        }
        try {
            return runtime.state(root, id).map(OciContainer::running).orElse(false);
        } catch (CommandException e) {
            return true;
        }
    }

    private StartFailure startFailure(@Nullable Integer exitCode, ExecFiles files) {
        String message = files.readError().orElse(null);
        if (message == null) {
            return new StartFailure(Kind.BACKEND_ERROR, runtime.name() + " exec exited with " + exitCode
                    + " before it started the process, and logged no reason");
        }
        return new StartFailure(RuntimeErrors.kind(message), runtime.name() + ": " + message);
    }

    /**
     * Ends a runtime whose process did not start (or could not be followed), waits for it, and removes its files.
     * A process the runtime started already (its pid file written as the start gave up: the start timeout, no
     * pidfd or thread to follow it) is killed with its group first, never handed to anyone; then SIGTERM to the
     * runtime, which passes it on to a process that may exist by then, which SIGKILL would orphan.
     */
    static void abandon(HostProcess process, ExecFiles files) {
        try {
            killStarted(process, files);
            process.terminate();
            try {
                process.onExit().get(2, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                process.kill();
            }
            process.onExit().get(5, TimeUnit.SECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            log.warn("the runtime process {} did not go away: {}", process.pid(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.close();
            files.delete();
        }
    }

    /** SIGKILL to the process the runtime wrote the pid of, and its group, if it is still the runtime's child. */
    private static void killStarted(HostProcess runtimeProcess, ExecFiles files) {
        OptionalLong pid = files.readPid();
        if (pid.isEmpty()) {
            return;
        }
        try (PidFd started = PidFd.open(pid.getAsLong())) {
            // The runtime, the service's unreaped child, still runs: its child by that pid is the process it started.
            if (started == null || ProcessGroup.parentOf(pid.getAsLong()) != runtimeProcess.pid()
                    || runtimeProcess.onExit().isDone()) {
                return;
            }
            ProcessGroup.signalLive(started, pid.getAsLong(), Signal.SIGKILL);
        } catch (IOException e) {
            log.warn("killing the process {} its runtime started failed: {}", pid.getAsLong(), e.getMessage());
        }
    }
}
