package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ImmediateInput;
import org.junit.jupiter.api.Test;

/**
 * The writer's two ways in: at once from the caller's thread while nothing waits, else through its own thread, in
 * order either way. The stream here takes a set number of bytes at once, as a pipe with that much room would;
 * {@code PipeStdinTest} shows a real pipe doing so.
 */
class StdinWriterTest {

    /** Takes {@code room} bytes without waiting, then nothing until {@link #drain}; blocking writes always go in. */
    static class RoomyInput extends OutputStream implements ImmediateInput {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        final List<String> blockingWriters = new ArrayList<>();
        final List<String> immediateWriters = new ArrayList<>();
        final CountDownLatch closed = new CountDownLatch(1);
        int room;

        RoomyInput(int room) {
            this.room = room;
        }

        @Override
        public synchronized int writeWithoutWaiting(byte[] data, int offset, int length) throws IOException {
            int n = Math.min(room, length);
            room -= n;
            written.write(data, offset, n);
            if (n > 0) {
                immediateWriters.add(Thread.currentThread().getName());
            }
            return n;
        }

        @Override
        public synchronized void write(byte[] data, int offset, int length) {
            written.write(data, offset, length);
            blockingWriters.add(Thread.currentThread().getName());
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        synchronized String text() {
            return written.toString();
        }
    }

    @Test
    void inputThatFitsGoesInFromTheCallersThreadAndNoWriterThreadStarts() throws Exception {
        RoomyInput stdin = new RoomyInput(1 << 20);
        StdinWriter writer = StdinWriter.of("e_fits", stdin, stdin.closed::countDown, 1 << 20);
        for (int i = 0; i < 100; i++) {
            assertThat(writer.write(("line " + i + "\n").getBytes(), Duration.ofSeconds(1))).isTrue();
        }
        assertThat(stdin.text()).startsWith("line 0\nline 1\n").endsWith("line 99\n");
        assertThat(stdin.immediateWriters).containsOnly(Thread.currentThread().getName());
        assertThat(stdin.blockingWriters).isEmpty();
        assertThat(threadNamed("exec-e_fits-stdin")).as("no writer thread").isFalse();
        writer.stop();
    }

    @Test
    void whatDoesNotFitWaitsForTheWriterThreadAndLaterInputQueuesBehindItInOrder() throws Exception {
        CountDownLatch reader = new CountDownLatch(1);
        RoomyInput stdin = new RoomyInput(5) {
            @Override
            public void write(byte[] data, int offset, int length) {
                try {
                    reader.await(); // the process is busy: the writer thread waits in its write
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(data, offset, length);
            }
        };
        StdinWriter writer = StdinWriter.of("e_full", stdin, stdin.closed::countDown, 1 << 20);
        assertThat(writer.write("hello world\n".getBytes(), Duration.ofSeconds(1))).isTrue();
        synchronized (stdin) {
            stdin.room = 1 << 20; // room again, but "second" must not overtake " world\n", which waits
        }
        assertThat(writer.write("second\n".getBytes(), Duration.ofSeconds(1))).isTrue();
        writer.close();
        assertThat(stdin.text()).isEqualTo("hello");
        reader.countDown();
        assertThat(stdin.closed.await(10, TimeUnit.SECONDS)).as("the end of stdin comes after the data").isTrue();
        assertThat(stdin.text()).isEqualTo("hello world\nsecond\n");
        assertThat(stdin.immediateWriters).containsExactly(Thread.currentThread().getName());
        assertThat(stdin.blockingWriters).containsOnly("exec-e_full-stdin");
    }

    @Test
    void aClosedStdinFoundByAnImmediateWriteDiscardsLaterInputAsAClosedPipeWould() throws Exception {
        RoomyInput failing = new RoomyInput(0) {
            @Override
            public synchronized int writeWithoutWaiting(byte[] data, int offset, int length) throws IOException {
                throw new IOException("EPIPE");
            }
        };
        StdinWriter writer = StdinWriter.of("e_epipe", failing, failing.closed::countDown, 1024);
        assertThat(writer.write("lost".getBytes(), Duration.ofSeconds(1))).as("taken, and dropped").isTrue();
        assertThat(writer.write("also lost".getBytes(), Duration.ofSeconds(1))).isTrue();
        writer.close();
        assertThat(failing.text()).isEmpty();
        assertThat(failing.blockingWriters).isEmpty();
        assertThat(threadNamed("exec-e_epipe-stdin")).as("nothing left to write: no thread").isFalse();
    }

    @Test
    void aBackendThatThrowsStopsTheWriterAndFailsTheCloseInsteadOfLeavingItsCallersWaiting() throws Exception {
        RoomyInput broken = new RoomyInput(0) { // nothing goes in at once: the writer thread gets it, and throws
            @Override
            public synchronized void write(byte[] data, int offset, int length) {
                throw new IllegalStateException("the backend's bug");
            }
        };
        StdinWriter writer = StdinWriter.of("e_bug", broken, broken.closed::countDown, 16);
        assertThat(writer.write("0123456789".getBytes(), Duration.ofSeconds(1))).isTrue();
        // More than the queue holds: this waits until the writer thread is gone and has dropped its queue.
        assertThat(writer.write("0123456789abcdef".getBytes(), Duration.ofSeconds(10))).isTrue();
        var closed = writer.close();
        assertThat(closed).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                .havingRootCause().withMessage("the backend's bug");
        assertThat(broken.closed.getCount()).as("stdin was not closed after the failure").isEqualTo(1);
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
