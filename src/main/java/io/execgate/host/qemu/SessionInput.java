package io.execgate.host.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.IntConsumer;

import org.jspecify.annotations.Nullable;

/**
 * One output stream of a guest process as the host reads it: chunks the connection's reader puts in, a blocking
 * {@link #read} that takes them out. The agent may send at most a window of bytes that were not credited, and the
 * session's {@link OutputWindow} ends the connection when it sends more, so this holds at most that much; bytes
 * are credited back (through {@code credit}) once read, in batches, which is what lets the agent send more. A
 * reader that reads nothing stalls only this stream.
 */
final class SessionInput extends InputStream {

    /** Credit back once this much has been read (or the buffer ran dry): fewer frames, a full pipe still flows. */
    private static final int CREDIT_BATCH = 32 * 1024;

    /** Frames smaller than this are copied into a shared chunk, so tiny frames do not cost an array each. */
    static final int SMALL_FRAME = 2048;
    private static final int SHARED_CHUNK = 2 * SMALL_FRAME;

    private final IntConsumer credit;
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    /**
     * The last chunk while small frames are still copied into it, and how much of it they filled. A guest process
     * writing a byte at a time sends one-byte frames (the agent measured 6.6 bytes a frame, unbuffered); kept one
     * array each, a window of 256 KiB held in them would take 30 times that in heap. A shared chunk is started
     * only when a frame does not fit, so each is more than half full.
     */
    private byte @Nullable [] shared;
    private int sharedLength;
    private int offset; // into the first chunk
    private int buffered;
    private int uncredited;
    private boolean eof;
    private boolean closed;

    SessionInput(IntConsumer credit) {
        this.credit = credit;
    }

    /**
     * Data from the agent (the reader thread); empty is the end of the stream. Never blocks. After {@link #close}
     * the data is dropped and credited back at once: the agent's window is shared with the other stream, which
     * would otherwise stall once the dropped bytes had used it up.
     */
    void put(byte[] data) {
        synchronized (this) {
            if (data.length == 0) {
                eof = true;
            } else if (!closed) {
                append(data);
                buffered += data.length;
            }
            notifyAll();
            if (!closed || data.length == 0) {
                return;
            }
        }
        credit.accept(data.length);
    }

    private void append(byte[] data) {
        if (data.length >= SMALL_FRAME) {
            sealShared();
            chunks.add(data);
            return;
        }
        if (shared == null || shared.length - sharedLength < data.length) {
            sealShared();
            shared = new byte[SHARED_CHUNK];
            sharedLength = 0;
            chunks.add(shared);
        }
        System.arraycopy(data, 0, shared, sharedLength, data.length);
        sharedLength += data.length;
    }

    /** Nothing more goes into the shared chunk (the last one): it is cut to what it holds, as every other chunk is. */
    private void sealShared() {
        if (shared != null) {
            if (sharedLength < shared.length) {
                chunks.pollLast();
                chunks.add(Arrays.copyOf(shared, sharedLength)); // the same bytes at the same places: a read's offset holds
            }
            shared = null;
        }
    }

    /** How many arrays hold what is buffered (for tests). */
    synchronized int chunkCount() {
        return chunks.size();
    }

    /** The agent is gone: what is buffered can still be read, then the stream ends. */
    synchronized void end() {
        eof = true;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] into, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int taken;
        int toCredit = 0;
        synchronized (this) {
            while (chunks.isEmpty() && !eof && !closed) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading a guest stream");
                }
            }
            if (closed) {
                throw new IOException("stream closed");
            }
            if (chunks.isEmpty()) {
                return -1;
            }
            taken = 0;
            while (taken < len && !chunks.isEmpty()) {
                byte[] first = chunks.peek();
                int end = first == shared ? sharedLength : first.length;
                int n = Math.min(len - taken, end - offset);
                System.arraycopy(first, offset, into, off + taken, n);
                taken += n;
                offset += n;
                if (offset == end) {
                    chunks.poll();
                    offset = 0;
                    if (first == shared) {
                        shared = null; // read out: the next small frame starts a new one
                    }
                }
            }
            buffered -= taken;
            uncredited += taken;
            if (uncredited >= CREDIT_BATCH || buffered == 0) {
                toCredit = uncredited;
                uncredited = 0;
            }
        }
        // Credited even after this stream's end: the agent's window is one for stdout and stderr together.
        if (toCredit > 0) {
            credit.accept(toCredit);
        }
        return taken;
    }

    @Override
    public synchronized int available() {
        return buffered;
    }

    /**
     * Ends reads blocked here; what is buffered, and what comes after, is dropped and credited back, so that the
     * guest process is not left blocked on a stream nobody reads while its other stream still flows.
     */
    @Override
    public void close() {
        int dropped;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            dropped = buffered + uncredited;
            chunks.clear();
            shared = null;
            buffered = 0;
            uncredited = 0;
            notifyAll();
        }
        if (dropped > 0) {
            credit.accept(dropped);
        }
    }
}
