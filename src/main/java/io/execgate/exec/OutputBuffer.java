package io.execgate.exec;

import java.nio.ByteBuffer;

/**
 * The retained output of one stream, bounded by a capacity. It grows as output arrives (doubling up to the
 * capacity), so small outputs cost little. When full it either keeps the newest bytes (a ring: what
 * {@code GET .../output} and a late attachment want) or the oldest (what a run-to-completion caller wants,
 * as CRI's ExecSync does), and counts what it let go. Its growth is paid from an {@link OutputBudget} shared by
 * the running execs: when that is spent the buffer holds what its array holds now, as if that were its capacity.
 */
final class OutputBuffer {

    /** Which bytes survive when more arrive than the buffer holds. */
    enum Policy {
        KEEP_NEWEST, KEEP_OLDEST
    }

    private static final int MIN_ALLOCATION = 4096;
    private static final byte[] EMPTY = new byte[0];

    private final int capacity;
    private final Policy policy;
    private final OutputBudget budget;
    private boolean released;
    /** Whether a {@link Retained} view may still read {@link #data}: the next write goes into a copy instead. */
    private boolean shared;
    private byte[] data = EMPTY;
    private int start;
    private int length;
    private long total;
    private long dropped;

    OutputBuffer(int capacity, Policy policy) {
        this(capacity, policy, OutputBudget.UNLIMITED);
    }

    OutputBuffer(int capacity, Policy policy, OutputBudget budget) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative: " + capacity);
        }
        this.capacity = capacity;
        this.policy = policy;
        this.budget = budget;
    }

    /** Appends the bytes from the buffer's position to its limit; the buffer itself is left as it was. */
    synchronized void append(ByteBuffer bytes) {
        int offset = bytes.position();
        int count = bytes.remaining();
        if (count == 0) {
            return;
        }
        total += count;
        if (policy == Policy.KEEP_OLDEST) {
            int take = Math.min(grow(length + Math.min(capacity - length, count)) - length, count);
            if (take > 0) { // a full buffer that keeps its oldest bytes writes nothing: no copy for the views
                unshare();
            }
            bytes.get(offset, data, length, take);
            length += take;
            dropped += count - take;
            return;
        }
        int limit = grow(Math.min(capacity, length + count)); // what it can hold: the capacity, or less on a budget
        unshare();
        if (count >= limit) {
            dropped += length + count - limit;
            bytes.get(offset + count - limit, data, 0, limit);
            start = 0;
            length = limit;
            return;
        }
        int overflow = length + count - limit;
        if (overflow > 0) {
            start = (start + overflow) % data.length;
            length -= overflow;
            dropped += overflow;
        }
        int end = (start + length) % data.length;
        int first = Math.min(count, data.length - end);
        bytes.get(offset, data, end, first);
        bytes.get(offset + first, data, 0, count - first);
        length += count;
    }

    /**
     * The retained bytes as they are now, without copying them: later output is written into a copy of the array
     * (made once, by the first write after this), so the view never changes. Attachments replay from views: a
     * hundred clients attaching to one exec share its array instead of copying it a hundred times, and while
     * replays run the relay waits for them after its next chunk (an attachment gets new output only after its
     * replay), so replays keep at most one old array alive. A {@code GET .../output} answer holds its view while
     * it is written, as it held its copy before: readers of a running exec's output cost at most an array each,
     * as many as answers are being written at once, and the copy the next write makes.
     */
    synchronized Retained retainedNow() {
        shared = true;
        return new Retained(data, start, length);
    }

    /** Retained bytes at one moment, oldest first; read-only. */
    static final class Retained {
        private final byte[] data;
        private final int start;
        private final int length;

        private Retained(byte[] data, int start, int length) {
            this.data = data;
            this.start = start;
            this.length = length;
        }

        int length() {
            return length;
        }

        /**
         * Copies up to {@code count} bytes, counted from the oldest and starting at {@code from}, into {@code into};
         * how many it copied (0 past the end).
         */
        int read(int from, byte[] into, int offset, int count) {
            int n = Math.max(0, Math.min(count, length - from));
            if (n > 0) {
                int at = (start + from) % data.length;
                int first = Math.min(n, data.length - at);
                System.arraycopy(data, at, into, offset, first);
                System.arraycopy(data, 0, into, offset + first, n - first);
            }
            return n;
        }

        /** Writes every byte, oldest first, in at most two writes. */
        void writeTo(java.io.OutputStream out) throws java.io.IOException {
            if (length > 0) {
                int first = Math.min(length, data.length - start);
                out.write(data, start, first);
                out.write(data, 0, length - first);
            }
        }
    }

    /**
     * Before a write into the array: a view may be reading it, so the buffer moves to a copy of its own. The copy
     * is not paid from the budget: it replaces the array the budget paid for, which lives on only while views
     * read it.
     */
    private void unshare() {
        if (shared) {
            shared = false;
            if (data.length > 0) {
                data = data.clone();
            }
        }
    }

    /** The bytes retained now. */
    synchronized int retained() {
        return length;
    }

    /** Counts bytes that went elsewhere (upstream IO) as produced and not retained. */
    synchronized void skip(long count) {
        total += count;
        dropped += count;
    }

    /** Every byte the stream produced, retained or not. */
    synchronized long total() {
        return total;
    }

    /** Bytes produced but not retained. */
    synchronized long dropped() {
        return dropped;
    }

    /**
     * The exec ended: its growth goes back to the budget (the ended record answers to the retained limit, which
     * counts what it retains), and the array shrinks to what it retains: grown by doubling, it could hold twice that.
     */
    synchronized void release() {
        if (!released) {
            released = true;
            budget.give(data.length);
            if (data.length > length) {
                data = length == 0 ? EMPTY : straightened(length);
                start = 0;
                shared = false; // views keep the old array
            }
        }
    }

    /** The bytes the array takes, whatever it retains (for tests). */
    synchronized int held() {
        return data.length;
    }

    /**
     * Grows the array towards {@code needed} bytes (at most the capacity), doubling when it can, as far as the budget
     * allows, and straightens the ring; the array's length after, which may be less than asked for.
     */
    private int grow(int needed) {
        if (needed <= data.length || released) {
            return data.length;
        }
        int size = Math.min(capacity, Math.max(needed, Math.max(MIN_ALLOCATION, data.length * 2)));
        if (!budget.take(size - data.length)) {
            size = needed;
            if (!budget.take(size - data.length)) {
                return data.length;
            }
        }
        byte[] bigger = straightened(size);
        shared = false; // the views keep the old array; this one is the buffer's own
        data = bigger;
        start = 0;
        return size;
    }

    /** A new array of {@code size} bytes with the retained bytes at its start, oldest first. */
    private byte[] straightened(int size) {
        byte[] copy = new byte[size];
        int first = Math.min(length, data.length - start);
        if (length > 0) {
            System.arraycopy(data, start, copy, 0, first);
            System.arraycopy(data, 0, copy, first, length - first);
        }
        return copy;
    }
}
