package io.execgate.stream;

import io.execgate.exec.ExecService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The first step of a graceful shutdown (SIGTERM), before the web server's own: new execs are refused, and every
 * attached client is told (a Failure status with the reason on channel 3, then close 1001). The running execs
 * are then terminated with their grace period when the exec service is destroyed.
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
        log.info("shutting down: refusing new execs and telling attached clients");
        execs.stopAccepting();
        sessions.goingAway(MESSAGE);
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
