package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class OutputRelayTest {

    @Test
    void startsWithASmallChunkAndDoublesItWhileReadsFillItUpToAPipesWorth() throws Exception {
        byte[] data = new byte[300 * 1024];
        new Random(11).nextBytes(data);
        List<Integer> reads = new ArrayList<>();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        List<Boolean> headerRoom = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ByteArrayInputStream(data), (chunk, offset, n) -> {
            reads.add(n);
            headerRoom.add(offset >= 1);
            received.write(chunk, offset, n);
        }, CompletableFuture.completedFuture(null));

        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(received.toByteArray()).isEqualTo(data);
        // a stream that always has more fills every read: 4, 8, 16, 32 KiB, then 64 KiB per read
        assertThat(reads.subList(0, 6)).containsExactly(4096, 8192, 16384, 32768, 65536, 65536);
        assertThat(reads).allMatch(n -> n <= OutputRelay.CHUNK);
        assertThat(headerRoom).containsOnly(true);
    }

    @Test
    void aStreamThatNeverFillsTheChunkKeepsTheSmallOne() throws Exception {
        // ByteArrayInputStream-like source that hands out 100 bytes per read, as a chatty terminal would
        byte[] data = new byte[10_000];
        List<Integer> reads = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 100));
            }
        }, (chunk, offset, n) -> reads.add(chunk.length), CompletableFuture.completedFuture(null));
        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(reads).as("chunk sizes").containsOnly(1 + OutputRelay.FIRST_CHUNK);
    }
}
