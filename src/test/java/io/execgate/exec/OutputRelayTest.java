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

    private static final RelayBuffers BUFFERS = new RelayBuffers(32L << 20);

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
        }, CompletableFuture.completedFuture(null), BUFFERS);

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
        }, chunk -> reads.add(chunk.capacity()), CompletableFuture.completedFuture(null), BUFFERS);
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
        }, CompletableFuture.completedFuture(null), BUFFERS);

        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(received.toByteArray()).isEqualTo(data);
        assertThat(directWithRoom).isNotEmpty().containsOnly(true);
    }

    /**
     * Grown chunks count against the relays' shared limit: a flood grows only as far as the limit leaves room (the
     * old chunk and the new one both count while it changes), and gives everything back when it ends.
     */
    @Test
    void aFloodGrowsOnlyAsFarAsTheSharedLimitAllowsAndGivesItAllBack() throws Exception {
        RelayBuffers buffers = new RelayBuffers(300_000);
        byte[] data = new byte[3 * 1024 * 1024];
        List<Integer> reads = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ChannelStream(data),
                chunk -> reads.add(chunk.remaining()), CompletableFuture.completedFuture(null), buffers);
        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(data.length);
        // 8, 16, 32, 64 and 128 KiB fit (with the one before each); 256 KiB beside 128 KiB would not
        assertThat(java.util.Collections.max(reads)).isEqualTo(128 * 1024);
        assertThat(buffers.held()).as("given back").isZero();
    }

    @Test
    void withNoLimitLeftARelayStaysAtItsFirstChunk() throws Exception {
        RelayBuffers buffers = new RelayBuffers(0);
        List<Integer> reads = new ArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ChannelStream(new byte[1024 * 1024]),
                chunk -> reads.add(chunk.remaining()), CompletableFuture.completedFuture(null), buffers);
        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(1024 * 1024);
        assertThat(reads).containsOnly(OutputRelay.FIRST_CHUNK);
    }

    /**
     * A flood followed by chatty output: once the reads have been small for a while, the grown chunk (native memory
     * for a channel) goes back while the stream is still open.
     */
    @Test
    void aGrownChunkGoesBackOnceTheFloodIsOver() throws Exception {
        RelayBuffers buffers = new RelayBuffers(32L << 20);
        java.util.concurrent.CountDownLatch chatted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
        byte[] flood = new byte[4 * 1024 * 1024];
        ReadableByteChannel phases = new ReadableByteChannel() {
            int floodLeft = flood.length;
            int lines = 40;

            @Override
            public int read(ByteBuffer into) {
                if (floodLeft > 0) {
                    int n = Math.min(into.remaining(), floodLeft);
                    into.put(flood, 0, n);
                    floodLeft -= n;
                    return n;
                }
                if (lines-- > 0) {
                    into.put("a line\n".getBytes());
                    return 7;
                }
                chatted.countDown();
                try {
                    end.await(); // quiet until the test is done looking
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return -1;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        List<Integer> capacities = new java.util.concurrent.CopyOnWriteArrayList<>();
        OutputRelay relay = OutputRelay.start("e_test", "stdout", new ChannelInputStream(phases),
                chunk -> capacities.add(chunk.capacity() - 1), CompletableFuture.completedFuture(null), buffers);
        assertThat(chatted.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(capacities).as("grew with the flood").contains(OutputRelay.MOST);
        assertThat(capacities.getLast()).as("then back to the first chunk").isEqualTo(OutputRelay.FIRST_CHUNK);
        assertThat(buffers.held()).as("given back while the stream is still open").isZero();
        end.countDown();
        relay.done().get(5, TimeUnit.SECONDS);
    }

    /**
     * A relay that fails for a reason that is not its stream's (here its sink throws an Error, as running out of
     * direct memory would) still ends, and closes its stream so the process is not left blocked on a full pipe.
     */
    @Test
    void aRelayThatFailsStillEndsAndClosesItsStream() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        ByteArrayInputStream stream = new ByteArrayInputStream(new byte[100_000]) {
            @Override
            public void close() {
                closed.set(true);
            }
        };
        OutputRelay relay = OutputRelay.start("e_test", "stdout", stream, chunk -> {
            throw new OutOfMemoryError("Cannot reserve direct buffer memory (a test)");
        }, CompletableFuture.completedFuture(null), BUFFERS);
        assertThat(relay.done().get(5, TimeUnit.SECONDS)).isEqualTo(OutputRelay.FIRST_CHUNK);
        assertThat(closed).isTrue();

        closed.set(false);
        OutputRelay gated = OutputRelay.start("e_test", "stderr", stream, chunk -> { },
                CompletableFuture.failedFuture(new IllegalStateException("the start failed")), BUFFERS);
        assertThat(gated.done().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(closed).isTrue();
    }

    /** A stream over a channel, as a local pipe is both. */
    private static final class ChannelInputStream extends java.io.InputStream implements ReadableByteChannel {
        private final ReadableByteChannel channel;

        ChannelInputStream(ReadableByteChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read(ByteBuffer into) throws java.io.IOException {
            return channel.read(into);
        }

        @Override
        public int read() {
            throw new AssertionError("read as a stream");
        }

        @Override
        public boolean isOpen() {
            return true;
        }
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
