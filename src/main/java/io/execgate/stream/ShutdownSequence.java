package io.execgate.stream;

import io.execgate.exec.ExecService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The first step of a graceful shutdown (SIGTERM), before the web server's own: new execs are refused, every
 * attached client is told (a Failure status with the reason on channel 3, then close 1001), and then every running
 * exec gets SIGTERM, so that requests waiting for one (a run, an exit wait) are answered within the web server's
 * graceful wait. What is still running when the exec service is destroyed gets SIGKILL after its grace period.
 */
@Component
class ShutdownSequence implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ShutdownSequence.class);
    static final String MESSAGE = "execgate is shutting down";

    private final ExecService execs;
    private final StreamSessions sessions;
    private volatile boolean running;

    ShutdownSequence(ExecService execs, StreamSessions sessions) {
        this.execs = execs;
        this.sessions = sessions;
    }

    @Override
    public void start() {
        execs.startAccepting();
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        log.info("shutting down: refusing new execs, telling attached clients, terminating running execs");
        execs.stopAccepting();
        sessions.goingAway(MESSAGE); // returns once every client has been told: their status is the shutdown's
        execs.terminateAll();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops before everything else, the web server's graceful shutdown included (higher phases stop first). */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE;
    }
}
