package io.execgate.host.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.function.IntConsumer;

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

    private final IntConsumer credit;
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
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
                chunks.add(data);
                buffered += data.length;
            }
            notifyAll();
            if (!closed || data.length == 0) {
                return;
            }
        }
        credit.accept(data.length);
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
                int n = Math.min(len - taken, first.length - offset);
                System.arraycopy(first, offset, into, off + taken, n);
                taken += n;
                offset += n;
                if (offset == first.length) {
                    chunks.poll();
                    offset = 0;
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
            buffered = 0;
            uncredited = 0;
            notifyAll();
        }
        if (dropped > 0) {
            credit.accept(dropped);
        }
    }
}
