package io.execgate.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.execgate.host.BlockingThreads;
import io.execgate.host.ImmediateInput;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what attachments send to a process's stdin, on a platform thread of its own, so that a process that
 * does not read never holds a container thread. The queue is bounded in bytes: a writer that finds it full
 * waits at most its timeout and is then told no, so the caller can drop the client instead of blocking for
 * ever. The end of stdin is queued too, so it comes after the data sent before it. A failed write (the process
 * closed its stdin or exited) ends the writer; later input is discarded, as a closed pipe would.
 *
 * <p>When nothing is queued and the process's stdin can take the bytes at once ({@link ImmediateInput}), they go
 * in from the caller's thread: the writer thread wakes only for input that has to wait.
 */
final class StdinWriter {

    private static final Logger log = LoggerFactory.getLogger(StdinWriter.class);
    private static final byte[] CLOSE = new byte[0];

    private final String execId;
    private final OutputStream stdin;
    private final Closer closeStdin;
    /** Completes once stdin is closed (or the writer stopped without closing it); exceptionally if the close failed. */
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final long maxQueuedBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean finished;
    private boolean threadStarted;

    /** Ends the process's stdin (closing a pipe, Ctrl-D twice on a terminal, a backend's close). */
    interface Closer {
        void close() throws IOException;
    }

    private StdinWriter(String execId, OutputStream stdin, Closer closeStdin, long maxQueuedBytes) {
        this.execId = execId;
        this.stdin = stdin;
        this.closeStdin = closeStdin;
        this.maxQueuedBytes = maxQueuedBytes;
    }

    /** A writer whose thread starts with the first input that has to wait (or the end of stdin). */
    static StdinWriter of(String execId, OutputStream stdin, Closer closeStdin, long maxQueuedBytes) {
        return new StdinWriter(execId, stdin, closeStdin, maxQueuedBytes);
    }

    /** Called under the lock with something queued. */
    private void runThread() {
        if (!threadStarted) {
            BlockingThreads.start("exec-" + execId + "-stdin", this::run);
            threadStarted = true; // after the start: a refused one leaves the next input to try again
        }
    }

    /**
     * Queues input, waiting at most {@code patience} for room.
     *
     * @return false when there was no room in time (the process does not read its stdin)
     */
    boolean write(byte[] data, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        lock.lock();
        try {
            data = writeWithoutWaiting(data);
            if (data.length == 0) {
                return true;
            }
            while (!finished && queuedBytes > 0 && queuedBytes + data.length > maxQueuedBytes) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            enqueue(data);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Queues input however much is queued already (the run's {@code input}, bounded by the request size). */
    void write(byte[] data) {
        lock.lock();
        try {
            enqueue(data);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes what goes in at once while nothing is queued (the writer thread is idle then: it takes a chunk off
     * the queue only after writing it); returns the rest, which must wait its turn. Called under the lock.
     */
    private byte[] writeWithoutWaiting(byte[] data) {
        if (finished || !queue.isEmpty() || !(stdin instanceof ImmediateInput immediate)) {
            return data;
        }
        int done = 0;
        try {
            int n;
            while (done < data.length && (n = immediate.writeWithoutWaiting(data, done, data.length - done)) > 0) {
                done += n;
            }
        } catch (IOException e) {
            log.debug("exec {}: stdin is closed ({}); further input is discarded", execId, e.toString());
            stopLocked();
            return new byte[0];
        }
        return done == 0 ? data : Arrays.copyOfRange(data, done, data.length);
    }

    private void enqueue(byte[] data) {
        if (!finished) {
            queue.add(data);
            queuedBytes += data.length;
            changed.signalAll();
            runThread();
        }
    }

    /**
     * Queues the end of stdin, after what is queued already.
     *
     * @return completes once it is closed (at once if the writer has stopped), exceptionally when the close failed
     */
    CompletableFuture<Void> close() {
        lock.lock();
        try {
            if (!finished) {
                queue.add(CLOSE);
                changed.signalAll();
                runThread();
            } else {
                closed.complete(null);
            }
        } finally {
            lock.unlock();
        }
        return closed;
    }

    /** Stops the writer (the process has exited); what is queued is dropped. */
    void stop() {
        lock.lock();
        try {
            stopLocked();
        } finally {
            lock.unlock();
        }
    }

    private void stopLocked() {
        finished = true;
        queue.clear();
        queuedBytes = 0;
        changed.signalAll();
        closed.complete(null); // nothing more to close: the process has exited, or its stdin broke
    }

    private void run() {
        try {
            while (true) {
                byte[] next;
                lock.lock();
                try {
                    while (!finished && queue.isEmpty()) {
                        changed.await();
                    }
                    if (finished) {
                        return;
                    }
                    next = queue.peek();
                } finally {
                    lock.unlock();
                }
                if (next == CLOSE) {
                    try {
                        closeStdin.close();
                    } catch (IOException e) {
                        log.debug("exec {}: closing stdin failed: {}", execId, e.getMessage());
                        closed.completeExceptionally(e);
                    }
                    stop();
                    return;
                }
                stdin.write(next);
                stdin.flush();
                lock.lock();
                try {
                    queue.poll();
                    queuedBytes -= next.length;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } catch (IOException e) {
            log.debug("exec {}: stdin is closed ({}); further input is discarded", execId, e.toString());
            stop();
        } catch (InterruptedException e) {
            stop();
        } catch (RuntimeException | Error e) {
            // A backend's bug, not a closed stdin: said so to whoever waits for the close, and the writer stops
            // (input after it is discarded) instead of leaving its callers waiting for a thread that is gone.
            log.warn("exec {}: writing stdin failed; further input is discarded", execId, e);
            closed.completeExceptionally(e);
            stop();
        }
    }
}
