package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class OutputBufferTest {

    @Test
    void keepsEverythingWhileItFits() {
        OutputBuffer buffer = new OutputBuffer(16, OutputBuffer.Policy.KEEP_NEWEST);
        append(buffer, "hello ");
        append(buffer, "world");
        assertThat(text(buffer)).isEqualTo("hello world");
        assertThat(buffer.total()).isEqualTo(11);
        assertThat(buffer.dropped()).isZero();
    }

    @Test
    void ringKeepsTheNewestBytesAndCountsTheRest() {
        OutputBuffer buffer = new OutputBuffer(8, OutputBuffer.Policy.KEEP_NEWEST);
        append(buffer, "abcdef");
        append(buffer, "ghij");
        assertThat(text(buffer)).isEqualTo("cdefghij");
        append(buffer, "k");
        assertThat(text(buffer)).isEqualTo("defghijk");
        append(buffer, "0123456789");
        assertThat(text(buffer)).isEqualTo("23456789");
        assertThat(buffer.total()).isEqualTo(21);
        assertThat(buffer.dropped()).isEqualTo(13);
    }

    @Test
    void headKeepsTheOldestBytesAndCountsTheRest() {
        OutputBuffer buffer = new OutputBuffer(8, OutputBuffer.Policy.KEEP_OLDEST);
        append(buffer, "abcdef");
        append(buffer, "ghij");
        append(buffer, "klm");
        assertThat(text(buffer)).isEqualTo("abcdefgh");
        assertThat(buffer.total()).isEqualTo(13);
        assertThat(buffer.dropped()).isEqualTo(5);
    }

    @Test
    void zeroCapacityRetainsNothingButCountsEverything() {
        for (OutputBuffer.Policy policy : OutputBuffer.Policy.values()) {
            OutputBuffer buffer = new OutputBuffer(0, policy);
            append(buffer, "abc");
            append(buffer, "");
            assertThat(buffer.snapshot()).isEmpty();
            assertThat(buffer.total()).isEqualTo(3);
            assertThat(buffer.dropped()).isEqualTo(3);
        }
    }

    @Test
    void ringMatchesAReferenceModelUnderRandomWrites() {
        Random random = new Random(42);
        int capacity = 10_000;
        OutputBuffer buffer = new OutputBuffer(capacity, OutputBuffer.Policy.KEEP_NEWEST);
        StringBuilder everything = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            int size = random.nextInt(i % 100 == 0 ? 20_000 : 300);
            StringBuilder chunk = new StringBuilder();
            for (int k = 0; k < size; k++) {
                chunk.append((char) ('a' + random.nextInt(26)));
            }
            append(buffer, chunk.toString());
            everything.append(chunk);
            String expected = everything.substring(Math.max(0, everything.length() - capacity));
            assertThat(text(buffer)).isEqualTo(expected);
            assertThat(buffer.dropped()).isEqualTo(everything.length() - expected.length());
        }
    }

    @Test
    void growsWithTheOutputInsteadOfAllocatingTheCapacity() throws Exception {
        OutputBuffer buffer = new OutputBuffer(64 * 1024 * 1024, OutputBuffer.Policy.KEEP_NEWEST);
        append(buffer, "small");
        var data = OutputBuffer.class.getDeclaredField("data");
        data.setAccessible(true);
        assertThat(((byte[]) data.get(buffer)).length).isLessThanOrEqualTo(4096);
    }

    @Test
    void takesADirectChunkFromItsPositionToItsLimitAndLeavesTheChunkAsItWas() {
        OutputBuffer newest = new OutputBuffer(8, OutputBuffer.Policy.KEEP_NEWEST);
        OutputBuffer oldest = new OutputBuffer(8, OutputBuffer.Policy.KEEP_OLDEST);
        ByteBuffer chunk = ByteBuffer.allocateDirect(16).put("xabcdefghijyy".getBytes(StandardCharsets.US_ASCII));
        chunk.position(1).limit(11); // "abcdefghij", with a spare byte in front as a relay leaves it
        newest.append(chunk);
        oldest.append(chunk);
        assertThat(chunk.position()).isEqualTo(1);
        assertThat(chunk.limit()).isEqualTo(11);
        assertThat(text(newest)).isEqualTo("cdefghij");
        assertThat(text(oldest)).isEqualTo("abcdefgh");
        assertThat(newest.dropped()).isEqualTo(2);
        assertThat(oldest.total()).isEqualTo(10);
    }

    private static void append(OutputBuffer buffer, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        buffer.append(ByteBuffer.wrap(bytes, 0, bytes.length));
    }

    private static String text(OutputBuffer buffer) {
        return new String(buffer.snapshot(), StandardCharsets.UTF_8);
    }
}
