package io.execgate.host;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Platform threads for work that blocks in native code for as long as a process lives: output relays, stdin
 * writers, exit waiters. They are pooled, as the JDK pools its own process reaper threads, because starting a
 * thread is a round trip through the scheduler (the starter waits until the new thread runs): on two busy cores
 * that cost about a millisecond per thread, three times per exec. A pooled thread idle for
 * {@link #KEEP_ALIVE_SECONDS} ends: long enough for execs that follow one another, short enough that the threads
 * a thousand sessions needed do not outlive them by much.
 *
 * <p>The pool is bounded by {@link #MAX_THREADS} as a backstop: the exec layer's own limits
 * ({@code execgate.exec.max-running}, {@code execgate.stream.max-sessions}) keep it far below that.
 */
public final class BlockingThreads {

    /** More threads than any configured exec limit needs (four per running exec at most). */
    public static final int MAX_THREADS = 16_384;
    private static final long STACK_SIZE = 256 * 1024;
    private static final String IDLE_NAME = "execgate-blocking-idle";

    public static final int KEEP_ALIVE_SECONDS = 10;
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, MAX_THREADS, KEEP_ALIVE_SECONDS,
            TimeUnit.SECONDS, new SynchronousQueue<>(), Thread.ofPlatform().daemon().name(IDLE_NAME).stackSize(STACK_SIZE).factory());

    private BlockingThreads() {
    }

    /**
     * Runs {@code task} on an idle pooled thread, or a new one, named {@code name} while it runs.
     *
     * @throws RejectedExecutionException when {@link #MAX_THREADS} threads are busy
     */
    public static void start(String name, Runnable task) {
        POOL.execute(() -> {
            Thread thread = Thread.currentThread();
            thread.setName(name);
            try {
                task.run();
            } finally {
                thread.setName(IDLE_NAME);
            }
        });
    }

    /** A call that blocks in native code, and what it may throw. */
    @FunctionalInterface
    public interface NativeCall<T, E extends Exception> {
        T call() throws E;
    }

    /**
     * Runs a call that blocks in native code (a {@code poll}, an HCS wait) where it cannot pin a virtual thread's
     * carrier: on the calling thread when that is a platform thread, else on a pooled platform thread while the
     * virtual caller parks. Requests run on virtual threads, and two carriers pinned for seconds on a 2-core
     * machine would stall every request.
     */
    @SuppressWarnings("unchecked")
    public static <T, E extends Exception> T call(String name, NativeCall<T, E> call) throws E {
        if (!Thread.currentThread().isVirtual()) {
            return call.call();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        start(name, () -> {
            try {
                result.complete(call.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw (E) cause; // only what the call declares can get here
        }
    }

    /** Threads in the pool now, busy or idle (for tests and metrics). */
    public static int size() {
        return POOL.getPoolSize();
    }

    /** Threads running a task now. */
    public static int busy() {
        return POOL.getActiveCount();
    }
}
