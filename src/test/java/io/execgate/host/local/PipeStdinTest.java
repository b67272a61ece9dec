package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ImmediateInput;
import io.execgate.host.ProcessSpec;
import org.junit.jupiter.api.Test;

/** A real {@code cat} whose stdout nobody reads until its pipes are full: immediate writes then take nothing. */
class PipeStdinTest {

    @Test
    void immediateWritesStopAtAFullPipeInsteadOfWaitingAndKeepTheirOrderWithBlockingWrites() throws Exception {
        HostProcess cat = LocalProcesses.start("/bin/cat", new ProcessSpec(List.of("cat"), List.of(), "/", null,
                false, null, true, true, false), Clock.systemUTC());
        try {
            OutputStream stdin = cat.stdin().orElseThrow();
            assertThat(stdin).isInstanceOf(ImmediateInput.class);
            ImmediateInput immediate = (ImmediateInput) stdin;
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            byte[] chunk = new byte[1000];
            long written = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                long total = 0;
                for (int i = 0; ; i++) {
                    java.util.Arrays.fill(chunk, (byte) ('a' + i % 26));
                    int n = immediate.writeWithoutWaiting(chunk, 0, chunk.length);
                    sent.write(chunk, 0, n);
                    total += n;
                    if (n == 0) {
                        return total; // full: cat blocks on its own stdout, and its stdin pipe is full behind it
                    }
                }
            }, "an immediate write must never wait for the reader");
            assertThat(written).as("the pipes took something, then were full").isPositive().isLessThan(16L << 20);

            // A blocking write goes after what went in at once; reading stdout lets both through in order.
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try (InputStream stdout = cat.stdout().orElseThrow()) {
                    return stdout.readAllBytes();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] tail = "the end\n".getBytes();
            stdin.write(tail);
            sent.write(tail);
            cat.closeStdin();
            assertThat(out.get(20, TimeUnit.SECONDS)).isEqualTo(sent.toByteArray());
            ExitStatus status = cat.onExit().get(20, TimeUnit.SECONDS);
            assertThat(status.exitCode()).isZero();
            assertThatIOException().as("after its close").isThrownBy(() -> immediate.writeWithoutWaiting(chunk, 0, 1));
        } finally {
            cat.kill();
            cat.close();
        }
    }
    /**
     * A large input (a run's {@code input}) goes into the pipe in slices: the JDK writes a heap array through a
     * temporary native buffer as large as the write and keeps it on the thread, so an unsliced 4 MiB write would
     * leave the writing thread holding 4 MiB of native memory.
     */
    @Test
    void aLargeWriteLeavesNoLargeNativeBufferOnTheWritingThread() throws Exception {
        HostProcess cat = LocalProcesses.start("/bin/cat", new ProcessSpec(List.of("cat"), List.of(), "/", null,
                false, null, true, true, false), Clock.systemUTC());
        try {
            CompletableFuture<Long> out = CompletableFuture.supplyAsync(() -> {
                try (InputStream stdout = cat.stdout().orElseThrow()) {
                    return stdout.transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] input = new byte[4 * 1024 * 1024];
            java.lang.management.BufferPoolMXBean direct = java.lang.management.ManagementFactory
                    .getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                    .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
            long[] grew = new long[1];
            Thread writer = Thread.ofPlatform().start(() -> {
                long before = direct.getMemoryUsed();
                try {
                    cat.stdin().orElseThrow().write(input);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                grew[0] = direct.getMemoryUsed() - before; // the thread's cached buffer is still there
            });
            writer.join(Duration.ofSeconds(20));
            cat.closeStdin();
            assertThat(out.get(20, TimeUnit.SECONDS)).isEqualTo(input.length);
            assertThat(grew[0]).as("native memory the write left behind").isLessThanOrEqualTo(2L * PipeStdin.SLICE);
        } finally {
            cat.kill();
            cat.close();
        }
    }
}
