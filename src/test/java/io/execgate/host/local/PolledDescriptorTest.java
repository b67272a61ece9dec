package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import org.junit.jupiter.api.Test;

/** Reads from a real pipe: what one {@code read} hands on decides how many frames a client gets. */
class PolledDescriptorTest {

    private static final Libc LIBC = Libc.INSTANCE;

    @Test
    void oneReadTakesEverySeparateWriteAlreadyThereUpToTheBufferWithoutWaitingForMore() throws Exception {
        int[] pipe = new int[2];
        LIBC.pipe2(pipe, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        try (PolledDescriptor reader = PolledDescriptor.of(pipe[0])) {
            for (int i = 0; i < 3; i++) {
                write(pipe[1], 1000, (byte) ('a' + i));
            }
            byte[] buffer = new byte[65536];
            assertThat(reader.read(buffer, 0, buffer.length)).as("three writes, one read").isEqualTo(3000);
            assertThat(buffer[0]).isEqualTo((byte) 'a');
            assertThat(buffer[2999]).isEqualTo((byte) 'c');

            write(pipe[1], 5000, (byte) 'x');
            assertThat(reader.read(buffer, 10, 2048)).as("never more than asked").isEqualTo(2048);
            assertThat(reader.read(buffer, 10, 2048)).isEqualTo(2048);
            assertThat(reader.read(buffer, 10, 2048)).isEqualTo(904);
            assertThat(buffer[9]).as("nothing before the offset is touched").isEqualTo((byte) 'a');

            write(pipe[1], 10, (byte) 'y');
            LIBC.close(pipe[1]);
            pipe[1] = -1;
            assertThat(reader.read(buffer, 0, buffer.length)).as("what came before end-of-file").isEqualTo(10);
            assertThat(reader.read(buffer, 0, buffer.length)).as("then end-of-file").isEqualTo(-1);
        } finally {
            if (pipe[1] >= 0) {
                LIBC.close(pipe[1]);
            }
        }
    }

    @Test
    void aReadOfAnEmptyPipeWaitsForTheWriteAndCloseEndsAWaitingRead() throws Exception {
        int[] pipe = new int[2];
        LIBC.pipe2(pipe, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        try (PolledDescriptor reader = PolledDescriptor.of(pipe[0])) {
            byte[] buffer = new byte[64];
            CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> read(reader, buffer));
            Thread.sleep(200);
            assertThat(first).as("nothing there yet: the read waits").isNotDone();
            write(pipe[1], 5, (byte) 'z');
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(5);
            assertThat(buffer[4]).isEqualTo((byte) 'z');

            CompletableFuture<Integer> second = CompletableFuture.supplyAsync(() -> read(reader, buffer));
            Thread.sleep(200);
            assertThat(second).isNotDone();
            reader.close();
            assertThat(second.get(10, TimeUnit.SECONDS)).as("closed while waiting: as at end-of-file").isEqualTo(-1);
        } finally {
            LIBC.close(pipe[1]);
        }
    }

    @Test
    void aFailedReadSaysWhyWithTheErrnoOfThatRead() throws Exception {
        int[] pipe = new int[2];
        LIBC.pipe2(pipe, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        LIBC.close(pipe[0]);
        // the write end cannot be read: EBADF; read() reports it through errno rather than an exception
        try (PolledDescriptor writeEnd = PolledDescriptor.of(pipe[1])) {
            assertThatThrownBy(() -> writeEnd.read(new byte[16], 0, 16))
                    .isInstanceOfSatisfying(PolledDescriptor.DescriptorException.class,
                            e -> assertThat(e.errno()).isEqualTo(9))
                    .hasMessage("read: Bad file descriptor");
        }
    }

    private static int read(PolledDescriptor reader, byte[] buffer) {
        try {
            return reader.read(buffer, 0, buffer.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void buffersAreMadeAtTheFirstUseAndFreedAtTheCloseAndNothingTouchesThemAfter() throws Exception {
        int[] pipe = new int[2];
        LIBC.pipe2(pipe, Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        PolledDescriptor reader = PolledDescriptor.of(pipe[0]);
        PolledDescriptor writer = PolledDescriptor.of(pipe[1]);
        assertThat(reader.bufferBytes()).as("a descriptor only waited on (a pidfd) holds no buffer").isZero();
        writer.write("hello".getBytes(), 0, 5);
        byte[] buffer = new byte[64];
        assertThat(reader.read(buffer, 0, buffer.length)).isEqualTo(5);
        assertThat(reader.bufferBytes()).isPositive();
        assertThat(writer.bufferBytes()).isPositive();
        writer.close();
        reader.close();
        assertThat(reader.bufferBytes()).isZero();
        assertThat(writer.bufferBytes()).isZero();
        assertThat(reader.read(buffer, 0, buffer.length)).as("closed: end of stream, no buffer used").isEqualTo(-1);
        assertThatThrownBy(() -> writer.write(buffer, 0, 1)).isInstanceOf(java.io.InterruptedIOException.class);
        assertThatThrownBy(() -> writer.writeWithoutWaiting(buffer, 0, 1)).isInstanceOf(java.io.InterruptedIOException.class);
        assertThat(writer.bufferBytes()).isZero();
    }

    private static void write(int fd, int count, byte value) {
        byte[] bytes = new byte[count];
        Arrays.fill(bytes, value);
        Memory memory = new Memory(count);
        memory.write(0, bytes, 0, count);
        assertThat(LIBC.write(fd, memory, new NativeLong(count)).intValue()).isEqualTo(count);
    }
}
