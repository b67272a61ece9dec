package io.execgate.host.qemu;

import java.io.IOException;

/**
 * The host's count of one session's output window: bytes the agent sent on STDOUT and STDERR that the host has
 * not credited back yet. The agent may have at most {@link AgentPayloads#WINDOW} of them outstanding; the host
 * buffers what it has not read without any other bound, so an agent that sends more (a bug, or a guest that
 * took the agent over) would otherwise grow the service's heap for as long as it likes.
 */
final class OutputWindow {

    /** The agent sent more output than its window allows: the connection can no longer be trusted. */
    static final class Exceeded extends IOException {
        Exceeded(String message) {
            super(message);
        }
    }

    private final int sessionId;
    private long outstanding; // guarded by this

    OutputWindow(int sessionId) {
        this.sessionId = sessionId;
    }

    /** Output from the agent (the connection's reader thread), counted before it is buffered. */
    synchronized void received(int bytes) throws Exceeded {
        outstanding += bytes;
        if (outstanding > AgentPayloads.WINDOW) {
            throw new Exceeded("session " + sessionId + " has " + outstanding + " bytes of output outstanding, more "
                    + "than its window of " + AgentPayloads.WINDOW + ": the agent ignores the host's credits");
        }
    }

    /** Bytes about to be credited back; counted before the CREDIT goes out, so the agent's next output fits. */
    synchronized void credited(int bytes) {
        outstanding -= bytes;
    }
}
