package io.execgate.exec;

import java.io.IOException;
import java.nio.ByteBuffer;

import io.execgate.host.ExitStatus;

/**
 * A client attached to an exec (a WebSocket session). The exec calls it from its relay threads, one call at a
 * time per attachment and in order: first the retained output, then new output as it comes, then the end.
 */
public interface Attachment {

    /**
     * Output of the process: the bytes from {@code data}'s position to its limit (a direct buffer when they came
     * from a local pipe). Blocks while the client is slow, which makes the relay stop reading and the process block
     * on its writes. The byte before the position exists and is free: the attachment may put a one-byte frame
     * header there instead of copying. The buffer and its bytes are the caller's again once this returns; the
     * attachment leaves its position and limit as they were.
     *
     * @throws IOException when the client is gone or too slow; the exec then detaches it
     */
    void output(StdStream stream, ByteBuffer data) throws IOException;

    /** The exec has ended: its status is recorded and all of its output delivered. */
    void ended(ExitStatus status);
}
