package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.CompletableFuture;

import io.execgate.host.BlockingThreads;
import org.jspecify.annotations.Nullable;
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
 * relay, the socket and the client low. Grown chunks come from {@link RelayBuffers}, whose limit all relays share,
 * and go back once the flood is over: after {@link #SMALL_READS_TO_SHRINK} chatty reads in a row (less than
 * {@link #CHATTY} bytes each), or one chatty read that had to wait for its data. A stream that is also a {@link ReadableByteChannel} (a local pipe) is read
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

    /** Reads in a row of less than {@link #CHATTY} bytes, after which a grown chunk is given back. */
    static final int SMALL_READS_TO_SHRINK = 16;
    /** A read smaller than this is a line or a keystroke's echo, not part of a flood. */
    static final int CHATTY = 2 * 1024;
    /** A chatty read that had to wait this long for its data: the stream has gone quiet, the grown chunk goes back. */
    private static final long QUIET_NANOS = 100_000_000L;

    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private final InputStream in;
    private volatile long bytes;
    private volatile boolean delivering;

    private OutputRelay(InputStream in) {
        this.in = in;
    }

    /** A relay for a stream that does not exist: done at once. */
    static OutputRelay none() {
        OutputRelay relay = new OutputRelay(InputStream.nullInputStream());
        relay.done.complete(0L);
        return relay;
    }

    /**
     * Starts the relay on its own platform thread. It reads nothing before {@code gate} completes: until then the
     * process fills the pipe and waits, as it would for a slow reader. Chunks beyond the first come from
     * {@code buffers}, within its limit.
     */
    static OutputRelay start(String execId, String stream, InputStream in, Sink sink, CompletableFuture<?> gate,
            RelayBuffers buffers) {
        OutputRelay relay = new OutputRelay(in);
        BlockingThreads.start("exec-" + execId + "-" + stream, () -> relay.run(execId, stream, sink, gate, buffers));
        return relay;
    }

    private void run(String execId, String stream, Sink sink, CompletableFuture<?> gate, RelayBuffers buffers) {
        long reads = 0;
        int grown = 0;
        int shrunk = 0;
        ReadableByteChannel channel = in instanceof ReadableByteChannel c ? c : null;
        RelayBuffers.Chunk chunk = null;
        try (in) {
            RelayBuffers.Chunk first = RelayBuffers.first(1 + FIRST_CHUNK, channel != null);
            chunk = first;
            gate.join();
            int smallReads = 0;
            while (true) {
                ByteBuffer buffer = chunk.buffer();
                buffer.clear().position(1); // one spare byte in front, so that a frame header goes there without a copy
                long asked = System.nanoTime();
                int n = channel != null ? channel.read(buffer)
                        : in.read(buffer.array(), buffer.arrayOffset() + 1, buffer.remaining());
                boolean quiet = System.nanoTime() - asked > QUIET_NANOS; // the read, not the send, waited
                if (n < 0) {
                    break;
                }
                buffer.position(1).limit(1 + n);
                bytes += n;
                reads++;
                delivering = true;
                try {
                    sink.accept(buffer);
                } finally {
                    delivering = false;
                }
                int room = buffer.capacity() - 1;
                if (n == room && n < MOST) {
                    RelayBuffers.Chunk larger = buffers.take(1 + Math.min(MOST, 2 * n), channel != null);
                    if (larger != null) {
                        grown++;
                    }
                    chunk = swap(buffers, chunk, larger);
                    smallReads = 0; // a full read: more is coming
                } else if (chunk != first && n < CHATTY) {
                    // A flood the relay keeps up with reads what the process wrote last (often 4 KiB), and bursty
                    // output (a report every second) starts each burst with a large read after its lull: neither
                    // is a reason to give the chunk back. A line after a lull, or many lines in a row, are.
                    if (quiet || ++smallReads >= SMALL_READS_TO_SHRINK) {
                        chunk = swap(buffers, chunk, first); // the flood is over: chatty or quiet again
                        shrunk++;
                        smallReads = 0;
                    }
                } else {
                    smallReads = 0;
                }
            }
            log.debug("exec {}: {} relay complete, {} bytes in {} reads; its chunk grew {} times and shrank {}",
                    execId, stream, bytes, reads, grown, shrunk);
        } catch (IOException e) {
            // Closed by the exec after the copy-after-exit timeout, or the stream broke: either way it is over.
            log.debug("exec {}: {} relay ended after {} bytes: {}", execId, stream, bytes, e.toString());
        } catch (RuntimeException | Error e) {
            // Not the stream's doing (no memory for even the first chunk, a sink's bug): the stream is closed, so
            // the process is not left blocked on it, and the exec still ends.
            log.warn("exec {}: {} relay failed after {} bytes", execId, stream, bytes, e);
        } finally {
            try {
                if (chunk != null) {
                    buffers.give(chunk);
                }
            } finally {
                done.complete(bytes);
            }
        }
    }

    /** The chunk to read into next: {@code next} if there is one, giving back the one it replaces. */
    private static RelayBuffers.Chunk swap(RelayBuffers buffers, RelayBuffers.Chunk current,
            RelayBuffers.@Nullable Chunk next) {
        if (next == null) {
            return current; // over the limit: go on with what it has
        }
        buffers.give(current);
        return next;
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

    /**
     * Bytes its stream holds that the relay has not read yet (what a pipe holds, {@code FIONREAD}); 0 when the
     * stream cannot tell or is closed.
     */
    int pending() {
        try {
            return in.available();
        } catch (IOException e) {
            return 0;
        }
    }
}
