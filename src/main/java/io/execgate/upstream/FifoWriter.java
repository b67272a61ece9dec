package io.execgate.upstream;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.execgate.host.local.Libc;
import io.execgate.host.local.PolledDescriptor;
import io.execgate.host.local.PolledDescriptor.DescriptorException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes an exec's output into a FIFO someone else reads, as hcsshim's retry writer does for named pipes: when
 * the reader goes away the FIFO is opened again with {@link Backoff} until the retry budget is spent, and the
 * unwritten rest of the buffer goes to the new reader. The old write end stays open until then, so what the old
 * reader left unread in the FIFO is still there for the new one: no byte is lost or written twice. Meanwhile the
 * relay waits and the process, its pipe full, waits too.
 */
final class FifoWriter extends OutputStream {

    private static final Logger log = LoggerFactory.getLogger(FifoWriter.class);

    private final Path path;
    private final @Nullable Duration retryTimeout;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Object swap = new Object();
    private volatile PolledDescriptor fifo; // replaced under swap

    private FifoWriter(Path path, PolledDescriptor fifo, @Nullable Duration retryTimeout) {
        this.path = path;
        this.fifo = fifo;
        this.retryTimeout = retryTimeout;
    }

    /**
     * Opens {@code path} once a reader has it open, trying for at most {@code connectTimeout}.
     *
     * @param retryTimeout how long to keep reopening after the reader goes away; null for ever, zero never
     */
    static FifoWriter connect(Path path, Duration connectTimeout, @Nullable Duration retryTimeout,
            CountDownLatch cancelled) throws IOException {
        PolledDescriptor fifo = openWithin(path, connectTimeout, new Backoff(ThreadLocalRandom.current()), cancelled,
                false);
        return new FifoWriter(path, fifo, retryTimeout);
    }

    /**
     * Tries to open the FIFO until it works or {@code budget} is spent (null: for ever), waiting out the backoff
     * between attempts; one last attempt follows the budget.
     *
     * @param missingToo whether a path that names nothing is waited for too: not at the start (the caller named a
     *                   FIFO that is not there: a start failure), but when reopening, as a reader that restarts may
     *                   remove and make its FIFO again (hcsshim retries every failed dial within the budget)
     */
    private static PolledDescriptor openWithin(Path path, @Nullable Duration budget, Backoff backoff,
            CountDownLatch cancelled, boolean missingToo) throws IOException {
        long deadline = budget == null ? Long.MAX_VALUE : System.nanoTime() + budget.toNanos();
        while (true) {
            try {
                return Fifos.openForWriting(path);
            } catch (Fifos.NoReaderException | Fifos.MissingException e) {
                if (e instanceof Fifos.MissingException && !missingToo) {
                    throw e;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("reached the timeout while waiting for a reader of " + path);
                }
                long wait = Math.min(backoff.next().toNanos(), left);
                try {
                    if (cancelled.await(wait, TimeUnit.NANOSECONDS)) {
                        throw new InterruptedIOException("closed while waiting for a reader of " + path);
                    }
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for a reader of " + path);
                }
            }
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            try {
                done += fifo.writeSome(buffer, offset + done, length - done);
            } catch (DescriptorException e) {
                if (e.errno() != Libc.EPIPE) {
                    throw e;
                }
                reconnect();
            }
        }
    }

    private void reconnect() throws IOException {
        if (retryTimeout != null && retryTimeout.isZero()) {
            throw new IOException("the reader of " + path + " went away");
        }
        log.warn("the reader of {} went away; reopening it (retry timeout {})", path,
                retryTimeout == null ? "none" : retryTimeout);
        PolledDescriptor old = fifo;
        PolledDescriptor reopened;
        try {
            reopened = openWithin(path, retryTimeout, new Backoff(ThreadLocalRandom.current()), closed, true);
        } catch (IOException e) {
            old.close(); // given up: a late reader gets end-of-file, not stale bytes
            throw e;
        }
        synchronized (swap) {
            if (closed.getCount() == 0) {
                reopened.close(); // closed meanwhile: the new end must not outlive it
                throw new InterruptedIOException("closed while reopening " + path);
            }
            fifo = reopened;
        }
        old.close(); // only now: until the new reader came, this end kept the unread bytes in the FIFO
        log.info("reopened {}", path);
    }

    /** Ends a write under way (also one waiting for a reader) and closes the FIFO: its reader reads end-of-file. */
    @Override
    public void close() {
        PolledDescriptor current;
        synchronized (swap) {
            closed.countDown();
            current = fifo;
        }
        current.close();
    }
}
