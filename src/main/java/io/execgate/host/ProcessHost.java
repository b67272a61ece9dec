package io.execgate.host;

/** One place where processes can be started: the host itself, a container, a utility VM. */
public interface ProcessHost {

    TargetRef target();

    /**
     * Starts a process. Returns once the process exists (its pid is known) or throws a typed failure;
     * a failure leaves nothing running and nothing open.
     */
    HostProcess start(ProcessSpec spec) throws StartFailure;
}
