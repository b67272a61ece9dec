package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class OutputRelayTest {

    @Test
    void startsWithASmallChunkAndDoublesItWhileReadsFillItUpToTheMost() throws Exception {
        byte[] data = new byte[5 * 1024 * 1024];
        new Random(11).nextBytes(data);
        List<Integer> reads = new ArrayList<>();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        List<Boolean> headerRoom = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ByteArrayInputStream(data), chunk -> {
            reads.add(chunk.remaining());
            headerRoom.add(chunk.position() >= 1 && !chunk.isDirect());
            received.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
        }, CompletableFuture.completedFuture(null));

        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(received.toByteArray()).isEqualTo(data);
        // a stream that always has more fills every read: 4, 8, ... 512 KiB, then 1 MiB per read
        assertThat(reads.subList(0, 10)).containsExactly(4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288,
                1048576, 1048576);
        assertThat(reads).allMatch(n -> n <= OutputRelay.MOST);
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
        }, chunk -> reads.add(chunk.capacity()), CompletableFuture.completedFuture(null));
        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(reads).as("chunk sizes").containsOnly(1 + OutputRelay.FIRST_CHUNK);
    }

    @Test
    void aStreamThatIsAChannelIsReadIntoADirectBufferWithRoomInFront() throws Exception {
        byte[] data = new byte[300 * 1024];
        new Random(12).nextBytes(data);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        List<Boolean> directWithRoom = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ChannelStream(data), chunk -> {
            directWithRoom.add(chunk.isDirect() && chunk.position() == 1);
            byte[] copy = new byte[chunk.remaining()];
            chunk.get(chunk.position(), copy);
            received.writeBytes(copy);
        }, CompletableFuture.completedFuture(null));

        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(received.toByteArray()).isEqualTo(data);
        assertThat(directWithRoom).isNotEmpty().containsOnly(true);
    }

    /** A stream that can also be read as a channel, as a local pipe can: the relay must take the channel. */
    private static final class ChannelStream extends ByteArrayInputStream implements ReadableByteChannel {
        ChannelStream(byte[] data) {
            super(data);
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            throw new AssertionError("read as a stream");
        }

        @Override
        public synchronized int read(ByteBuffer into) {
            if (pos >= count) {
                return -1;
            }
            int n = Math.min(into.remaining(), count - pos);
            into.put(buf, pos, n);
            pos += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }
    }
}
