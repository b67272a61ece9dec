package io.execgate.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class BlockingThreadsTest {

    @Test
    void aTaskRunsOnAPlatformThreadNamedForItThatIsReusedByTheNextTask() throws Exception {
        CompletableFuture<Thread> first = new CompletableFuture<>();
        CompletableFuture<String> firstName = new CompletableFuture<>();
        BlockingThreads.start("relay-one", () -> {
            firstName.complete(Thread.currentThread().getName());
            first.complete(Thread.currentThread());
        });
        Thread thread = first.get(5, TimeUnit.SECONDS);
        assertThat(firstName.get()).isEqualTo("relay-one");
        assertThat(thread.isVirtual()).isFalse();
        assertThat(thread.isDaemon()).isTrue();
        awaitIdle(thread);

        // Tests before this one in the same JVM may have left pool threads too, some still finishing their tasks;
        // any of them may take the task (the pool hands it to the one that went idle last), but none may be made
        // for it.
        java.util.Set<Thread> existing = Thread.getAllStackTraces().keySet();
        assertThat(existing).contains(thread);
        CompletableFuture<Thread> second = new CompletableFuture<>();
        BlockingThreads.start("relay-two", () -> second.complete(Thread.currentThread()));
        assertThat(second.get(5, TimeUnit.SECONDS)).as("a thread that was there takes the next task").isIn(existing);
        awaitIdle(thread);
        assertThat(thread.getName()).as("an idle thread drops its task's name").isEqualTo("execgate-blocking-idle");
    }

    @Test
    void tasksThatBlockAtOnceEachGetAThreadOfTheirOwn() throws Exception {
        int tasks = 8;
        CountDownLatch allRunning = new CountDownLatch(tasks);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < tasks; i++) {
            BlockingThreads.start("blocked-" + i, () -> {
                allRunning.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            assertThat(allRunning.await(5, TimeUnit.SECONDS)).as("every blocked task runs at once").isTrue();
            assertThat(BlockingThreads.busy()).isGreaterThanOrEqualTo(tasks);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aNativeCallFromAVirtualThreadRunsOnAPlatformThreadAndItsFailureComesBackAsItself() throws Exception {
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        CompletableFuture<Integer> value = new CompletableFuture<>();
        CompletableFuture<Exception> failure = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().start(() -> {
            value.complete(BlockingThreads.call("native-wait", () -> {
                ranOn.complete(Thread.currentThread());
                return 42;
            }));
            try {
                BlockingThreads.call("native-fail", () -> {
                    throw new java.io.IOException("EIO");
                });
            } catch (java.io.IOException e) {
                failure.complete(e);
            }
        });
        assertThat(value.get(5, TimeUnit.SECONDS)).isEqualTo(42);
        assertThat(ranOn.get().isVirtual()).as("the call ran on a platform thread").isFalse();
        assertThat(ranOn.get()).isNotSameAs(caller);
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(java.io.IOException.class).hasMessage("EIO");
    }

    @Test
    void aNativeCallFromAPlatformThreadRunsWhereItIs() throws Exception {
        Thread here = Thread.currentThread();
        assertThat(BlockingThreads.call("inline", Thread::currentThread)).isSameAs(here);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> BlockingThreads.call("inline-fail", () -> {
            throw new IllegalStateException("bad");
        }))).isInstanceOf(IllegalStateException.class).hasMessage("bad");
    }

    /** A pooled thread is idle once it waits for work under its idle name. */
    private static void awaitIdle(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!(thread.getName().equals("execgate-blocking-idle") && thread.getState() == Thread.State.TIMED_WAITING)
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
