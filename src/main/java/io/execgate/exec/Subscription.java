package io.execgate.exec;

import java.io.IOException;
import java.time.Duration;

import io.execgate.host.ConsoleSize;

/** What an attached client can do to its exec. */
public interface Subscription {

    /**
     * Queues input for the process's stdin (ignored when the exec has no stdin or no longer runs, or when the
     * process closed its stdin). Never blocks on the process itself.
     *
     * @return false when the process has not taken earlier input for {@code patience}
     */
    boolean writeStdin(byte[] data, Duration patience) throws InterruptedException;

    /** The process reads end-of-file (Ctrl-D on a terminal), after the input queued before. */
    void closeStdin() throws IOException;

    /** Resizes the terminal (ignored without one). */
    void resize(ConsoleSize size) throws IOException;

    /** The client is gone. An exec started for its attachments is terminated when the last one goes. */
    void detach();

    /** The exec's id. */
    String execId();
}
