package io.execgate.exec;

import java.time.Duration;
import java.util.List;

import io.execgate.host.TargetRef;
import io.execgate.upstream.UpstreamPlan;

import org.jspecify.annotations.Nullable;

/** Told of every exec's start and end: the audit log is one. Called on the threads that start and end execs. */
public interface ExecObserver {

    /**
     * An exec was asked for (whether its process started or not; a failed start ends at once).
     *
     * @param env        the request's environment entries, unmasked: an observer that writes them out masks them
     * @param user       the user it runs as, when the request named one
     * @param workingDir the working directory, when the request named one
     * @param upstream   where its streams go instead of its buffers (FIFOs, a logging driver the service starts on
     *                   the host), when the request said so
     */
    void started(Exec exec, List<String> env, @Nullable String user, @Nullable String workingDir,
            @Nullable UpstreamPlan upstream);

    /** An exec's process started; {@code took} is how long the backend took to start it. */
    default void processStarted(Exec exec, Duration took) {
    }

    /** An exec ended: its status is recorded. */
    void ended(Exec exec);

    /**
     * Someone acted on an existing exec: {@code signal SIGTERM}, {@code resize 120x40}, {@code close-stdin},
     * {@code delete}, {@code attach} (with {@code +stdin} when the client may type into it).
     */
    default void controlled(Exec exec, Caller caller, String action) {
    }

    /** An exec was refused before anything started (a limit). */
    default void refused(Caller caller, TargetRef target, List<String> command, String reason) {
    }
}
