package io.execgate.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a relay puts a stream tied to an upstream (a FIFO, a logging driver) instead of the exec's buffer and
 * attachments. Its bytes count as produced and not retained. Once the upstream fails, further output is
 * discarded: the process must not block on a pipe nobody reads. Used by the relay's one thread.
 */
final class UpstreamSink implements OutputRelay.Sink {

    private static final Logger log = LoggerFactory.getLogger(UpstreamSink.class);

    private final String execId;
    private final StdStream stream;
    private final OutputStream out;
    private final OutputBuffer counter;
    private byte[] copy = new byte[0];
    private boolean broken;

    UpstreamSink(String execId, StdStream stream, OutputStream out, OutputBuffer counter) {
        this.execId = execId;
        this.stream = stream;
        this.out = out;
        this.counter = counter;
    }

    @Override
    public void accept(ByteBuffer chunk) {
        int n = chunk.remaining();
        counter.skip(n);
        if (broken) {
            return;
        }
        try {
            if (chunk.hasArray()) {
                out.write(chunk.array(), chunk.arrayOffset() + chunk.position(), n);
            } else {
                // a direct chunk (a local pipe's): streams take arrays
                if (copy.length < n) {
                    copy = new byte[n];
                }
                chunk.get(chunk.position(), copy, 0, n);
                out.write(copy, 0, n);
            }
        } catch (IOException e) {
            broken = true;
            log.warn("exec {}: {} upstream failed ({}); its further output is discarded", execId,
                    stream.name().toLowerCase(Locale.ROOT), e.getMessage());
        }
    }
}
