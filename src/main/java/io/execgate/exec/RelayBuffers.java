package io.execgate.exec;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * The bound on what output relays hold beyond their first chunk ({@code execgate.exec.relay-buffer-limit}). A relay
 * whose reads fill its chunk asks here for a larger one; past the limit it is told no and goes on with the chunk it
 * has, which is slower (more, smaller frames) but never wrong. So a thousand sessions flooding at once hold the limit
 * between them, not a MiB each.
 *
 * <p>A chunk for a channel is native memory, which no garbage collection is ever triggered for: it comes from an
 * {@link Arena} of its own and is freed the moment the relay gives it back, so what is counted here is what is held.
 * A heap chunk is the collector's once given back (heap pressure collects it).
 */
final class RelayBuffers {

    /** A chunk: its buffer, the arena that frees it (none for a heap chunk), and whether the limit counts it. */
    record Chunk(ByteBuffer buffer, @Nullable Arena arena, boolean counted) {
        int capacity() {
            return buffer.capacity();
        }
    }

    private final long limit;
    private final AtomicLong held = new AtomicLong();
    /** Chunks whose close found a system call still using them; freed at a later call. */
    private final Queue<Chunk> closing = new ConcurrentLinkedQueue<>();

    /** @param limit bytes all grown chunks may hold together; 0 keeps every relay at its first chunk */
    RelayBuffers(long limit) {
        this.limit = limit;
    }

    /** A chunk that is not counted: a relay's first, small one (part of what every session costs). */
    static Chunk first(int capacity, boolean direct) {
        return new Chunk(direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity), null, false);
    }

    /**
     * A counted chunk of {@code capacity} bytes, or null when the limit leaves no room for it (or the JVM has no
     * memory for it): the caller keeps what it has.
     */
    @Nullable Chunk take(int capacity, boolean direct) {
        freeClosing();
        if (held.addAndGet(capacity) > limit) {
            held.addAndGet(-capacity);
            return null;
        }
        try {
            if (!direct) {
                return new Chunk(ByteBuffer.allocate(capacity), null, true);
            }
            Arena arena = Arena.ofShared(); // shared: Tomcat may write the buffer to the socket from another thread
            try {
                return new Chunk(arena.allocate(capacity).asByteBuffer(), arena, true);
            } catch (OutOfMemoryError e) {
                arena.close();
                throw e;
            }
        } catch (OutOfMemoryError e) {
            held.addAndGet(-capacity);
            return null;
        }
    }

    /** Gives back a chunk {@link #take} made; a first chunk is nobody's business here. */
    void give(Chunk chunk) {
        if (!chunk.counted()) {
            return;
        }
        if (chunk.arena() == null || close(chunk.arena())) {
            held.addAndGet(-chunk.capacity());
        } else {
            closing.add(chunk);
        }
        freeClosing();
    }

    /** Bytes held by chunks given out and not yet given back (or not yet freed). */
    long held() {
        return held.get();
    }

    private void freeClosing() {
        for (int i = closing.size(); i > 0; i--) {
            Chunk chunk = closing.poll();
            if (chunk == null) {
                return;
            }
            if (close(chunk.arena())) {
                held.addAndGet(-chunk.capacity());
            } else {
                closing.add(chunk);
            }
        }
    }

    /**
     * Frees a chunk's native memory. A chunk is the relay's again once its sink returns; a shared arena's close
     * fails only while a system call (a read or write through NIO) holds it, which can be so only after a send that
     * timed out and left Tomcat writing: then it is tried again later. A late access to a freed chunk through NIO
     * is refused (an exception), never a read of freed memory.
     */
    private static boolean close(@Nullable Arena arena) {
        try {
            if (arena != null && arena.scope().isAlive()) { // closed already: freed, not in use
                arena.close();
            }
            return true;
        } catch (IllegalStateException inUse) {
            return false;
        }
    }
}
