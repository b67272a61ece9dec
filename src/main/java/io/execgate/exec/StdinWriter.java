package io.execgate.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what attachments send to a process's stdin, on a platform thread of its own, so that a process that
 * does not read never holds a container thread. The queue is bounded in bytes: a writer that finds it full
 * waits at most its timeout and is then told no, so the caller can drop the client instead of blocking for
 * ever. The end of stdin is queued too, so it comes after the data sent before it. A failed write (the process
 * closed its stdin or exited) ends the writer; later input is discarded, as a closed pipe would.
 */
final class StdinWriter {

    private static final Logger log = LoggerFactory.getLogger(StdinWriter.class);
    private static final byte[] CLOSE = new byte[0];

    private final String execId;
    private final OutputStream stdin;
    private final Runnable closeStdin;
    private final long maxQueuedBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean finished;

    private StdinWriter(String execId, OutputStream stdin, Runnable closeStdin, long maxQueuedBytes) {
        this.execId = execId;
        this.stdin = stdin;
        this.closeStdin = closeStdin;
        this.maxQueuedBytes = maxQueuedBytes;
    }

    static StdinWriter start(String execId, OutputStream stdin, Runnable closeStdin, long maxQueuedBytes) {
        StdinWriter writer = new StdinWriter(execId, stdin, closeStdin, maxQueuedBytes);
        Thread.ofPlatform().daemon().name("exec-" + execId + "-stdin").stackSize(OutputRelay.STACK_SIZE)
                .start(writer::run);
        return writer;
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

    private void enqueue(byte[] data) {
        if (!finished) {
            queue.add(data);
            queuedBytes += data.length;
            changed.signalAll();
        }
    }

    /** Queues the end of stdin, after what is queued already. */
    void close() {
        lock.lock();
        try {
            if (!finished) {
                queue.add(CLOSE);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops the writer (the process has exited); what is queued is dropped. */
    void stop() {
        lock.lock();
        try {
            finished = true;
            queue.clear();
            queuedBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
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
                    closeStdin.run();
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
        }
    }
}
