package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

import io.execgate.host.BlockingThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one output stream of a process to its exec (buffer and attachments), on a pooled platform thread
 * ({@link BlockingThreads}: reads from pipes and terminals block in native code and would pin a virtual thread's
 * carrier). The relay ends at end-of-file, or when the exec closes the stream after the copy-after-exit timeout.
 *
 * <p>Its chunk starts small and doubles whenever a read fills it, up to {@link #CHUNK}: an idle or chatty
 * session holds 4 KiB per stream, and a stream that floods reaches one pipe's worth (64 KiB) per read within
 * four reads, which is what keeps the per-frame costs low.
 */
final class OutputRelay {

    private static final Logger log = LoggerFactory.getLogger(OutputRelay.class);
    static final int CHUNK = 64 * 1024;
    static final int FIRST_CHUNK = 4 * 1024;

    /** Where a relay puts what it read: {@code chunk[offset - 1]} is free for a frame header (see {@link Attachment}). */
    interface Sink {
        void accept(byte[] chunk, int offset, int length);
    }

    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private volatile long bytes;
    private volatile boolean delivering;

    private OutputRelay() {
    }

    /** A relay for a stream that does not exist: done at once. */
    static OutputRelay none() {
        OutputRelay relay = new OutputRelay();
        relay.done.complete(0L);
        return relay;
    }

    /**
     * Starts the relay on its own platform thread. It reads nothing before {@code gate} completes: until then the
     * process fills the pipe and waits, as it would for a slow reader.
     */
    static OutputRelay start(String execId, String stream, InputStream in, Sink sink, CompletableFuture<?> gate) {
        OutputRelay relay = new OutputRelay();
        BlockingThreads.start("exec-" + execId + "-" + stream, () -> relay.run(execId, stream, in, sink, gate));
        return relay;
    }

    private void run(String execId, String stream, InputStream in, Sink sink, CompletableFuture<?> gate) {
        // One spare byte in front, so that a frame header can go there without a copy.
        byte[] chunk = new byte[1 + FIRST_CHUNK];
        gate.join();
        try (in) {
            int n;
            while ((n = in.read(chunk, 1, chunk.length - 1)) >= 0) {
                bytes += n;
                delivering = true;
                try {
                    sink.accept(chunk, 1, n);
                } finally {
                    delivering = false;
                }
                if (n == chunk.length - 1 && n < CHUNK) {
                    chunk = new byte[1 + Math.min(CHUNK, 2 * n)]; // a full read: more is coming
                }
            }
            log.debug("exec {}: {} relay complete, {} bytes", execId, stream, bytes);
        } catch (IOException e) {
            // Closed by the exec after the copy-after-exit timeout, or the stream broke: either way it is over.
            log.debug("exec {}: {} relay ended after {} bytes: {}", execId, stream, bytes, e.toString());
        } finally {
            done.complete(bytes);
        }
    }

    /** Completes with the number of bytes copied once the stream has ended. */
    CompletableFuture<Long> done() {
        return done;
    }

    /** Bytes read so far. */
    long bytes() {
        return bytes;
    }

    /** True while the relay hands a chunk on (to a client that may be slow), false while it waits to read. */
    boolean delivering() {
        return delivering;
    }
}
