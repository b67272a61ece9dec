package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.CompletableFuture;

import io.execgate.host.BlockingThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one output stream of a process to its exec (buffer and attachments), on a pooled platform thread
 * ({@link BlockingThreads}: reads from pipes and terminals block in native code and would pin a virtual thread's
 * carrier). The relay ends at end-of-file, or when the exec closes the stream after the copy-after-exit timeout.
 *
 * <p>Its chunk starts small and doubles whenever a read fills it, up to {@link #MOST}: an idle or chatty session
 * holds 4 KiB per stream, and a stream that floods reaches what its source hands out per read (a terminal about
 * 4 KiB to 64 KiB, a pipe that grows while it floods up to 1 MiB), which is what keeps the per-frame costs of the
 * relay, the socket and the client low. A stream that is also a {@link ReadableByteChannel} (a local pipe) is read
 * into a direct buffer: the JDK then copies nothing between the kernel's pipe and its socket.
 */
final class OutputRelay {

    private static final Logger log = LoggerFactory.getLogger(OutputRelay.class);
    /** The largest chunk, and so the largest output message: what a grown pipe holds. */
    static final int MOST = 1024 * 1024;
    static final int FIRST_CHUNK = 4 * 1024;

    /**
     * Where a relay puts what it read: the bytes from the buffer's position to its limit. The byte before the
     * position is free for a frame header (see {@link Attachment}). The buffer is the relay's again once the call
     * returns.
     */
    interface Sink {
        void accept(ByteBuffer chunk);
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
        long reads = 0;
        ReadableByteChannel channel = in instanceof ReadableByteChannel c ? c : null;
        ByteBuffer chunk = allocate(FIRST_CHUNK, channel != null);
        gate.join();
        try (in) {
            while (true) {
                chunk.clear().position(1); // one spare byte in front, so that a frame header goes there without a copy
                int n = channel != null ? channel.read(chunk)
                        : in.read(chunk.array(), chunk.arrayOffset() + 1, chunk.remaining());
                if (n < 0) {
                    break;
                }
                chunk.position(1).limit(1 + n);
                bytes += n;
                reads++;
                delivering = true;
                try {
                    sink.accept(chunk);
                } finally {
                    delivering = false;
                }
                if (n == chunk.capacity() - 1 && n < MOST) {
                    chunk = allocate(Math.min(MOST, 2 * n), channel != null); // a full read: more is coming
                }
            }
            log.debug("exec {}: {} relay complete, {} bytes in {} reads", execId, stream, bytes, reads);
        } catch (IOException e) {
            // Closed by the exec after the copy-after-exit timeout, or the stream broke: either way it is over.
            log.debug("exec {}: {} relay ended after {} bytes: {}", execId, stream, bytes, e.toString());
        } finally {
            done.complete(bytes);
        }
    }

    /** A chunk of {@code size} bytes plus the spare one; direct for a channel, which reads into it without a copy. */
    private static ByteBuffer allocate(int size, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(1 + size) : ByteBuffer.allocate(1 + size);
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
