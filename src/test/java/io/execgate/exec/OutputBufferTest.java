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
    void aViewStaysAsItWasWhileTheBufferGoesOn() {
        for (OutputBuffer.Policy policy : OutputBuffer.Policy.values()) {
            OutputBuffer buffer = new OutputBuffer(8, policy);
            append(buffer, "abcdef");
            append(buffer, "gh"); // a full ring, about to wrap
            OutputBuffer.Retained view = buffer.retainedNow();
            append(buffer, "ijk");
            OutputBuffer.Retained later = buffer.retainedNow();
            append(buffer, "lmnopq");
            assertThat(text(view)).as(policy.name()).isEqualTo("abcdefgh");
            assertThat(text(later)).as(policy.name()).isEqualTo(policy == OutputBuffer.Policy.KEEP_NEWEST ? "defghijk"
                    : "abcdefgh");
            assertThat(text(buffer)).as(policy.name()).isEqualTo(policy == OutputBuffer.Policy.KEEP_NEWEST ? "jklmnopq"
                    : "abcdefgh");
            byte[] middle = new byte[3];
            later.read(4, middle, 0, 3);
            assertThat(new String(middle, StandardCharsets.US_ASCII)).as(policy.name())
                    .isEqualTo(policy == OutputBuffer.Policy.KEEP_NEWEST ? "hij" : "efg");
        }
    }

    @Test
    void onlyTheFirstWriteAfterAViewCopiesTheArray() throws Exception {
        OutputBuffer buffer = new OutputBuffer(8, OutputBuffer.Policy.KEEP_NEWEST);
        append(buffer, "abcdefgh");
        var data = OutputBuffer.class.getDeclaredField("data");
        data.setAccessible(true);
        Object viewed = data.get(buffer);
        buffer.retainedNow();
        append(buffer, "i");
        Object copy = data.get(buffer);
        append(buffer, "j");
        assertThat(copy).as("a copy for the buffer").isNotSameAs(viewed);
        assertThat(data.get(buffer)).as("and only one").isSameAs(copy);
    }

    @Test
    void aViewWritesItsBytesOldestFirstAcrossTheRingsWrap() throws Exception {
        OutputBuffer buffer = new OutputBuffer(8, OutputBuffer.Policy.KEEP_NEWEST);
        append(buffer, "abcdefgh");
        append(buffer, "xyz"); // the ring now starts in the middle of its array
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        buffer.retainedNow().writeTo(out);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("defghxyz");
    }

    @Test
    void zeroCapacityRetainsNothingButCountsEverything() {
        for (OutputBuffer.Policy policy : OutputBuffer.Policy.values()) {
            OutputBuffer buffer = new OutputBuffer(0, policy);
            append(buffer, "abc");
            append(buffer, "");
            assertThat(OutputBuffers.bytes(buffer)).isEmpty();
            assertThat(buffer.total()).isEqualTo(3);
            assertThat(buffer.dropped()).isEqualTo(3);
        }
    }

    /**
     * Buffers share the running execs' budget: one that cannot grow holds what its array holds (the newest bytes, or
     * the first ones), counts the rest as dropped, and gives its share back when released.
     */
    @Test
    void buffersStopGrowingWhenTheSharedBudgetIsSpentAndGiveItBack() {
        OutputBudget budget = new OutputBudget(8000);
        OutputBuffer first = new OutputBuffer(8192, OutputBuffer.Policy.KEEP_NEWEST, budget);
        OutputBuffer second = new OutputBuffer(8192, OutputBuffer.Policy.KEEP_OLDEST, budget);
        append(first, "a".repeat(4000)); // its first allocation: 4096
        assertThat(budget.available()).isEqualTo(8000 - 4096);
        append(second, "b".repeat(3000)); // 4096 is not left: it takes exactly what it needs
        assertThat(second.retained()).isEqualTo(3000);
        assertThat(budget.available()).isEqualTo(904);
        append(second, "c".repeat(2000)); // not enough left to grow: the first bytes stay, the rest is dropped
        assertThat(text(second)).isEqualTo("b".repeat(3000));
        assertThat(second.dropped()).isEqualTo(2000);
        String flood = "0123456789".repeat(1000);
        append(first, flood); // a ring of the 4096 it has: the newest bytes
        assertThat(text(first)).isEqualTo(flood.substring(flood.length() - 4096));
        assertThat(first.dropped()).isEqualTo(4000 + 10_000 - 4096);
        assertThat(budget.available()).isEqualTo(904);

        first.release();
        first.release(); // given back once
        assertThat(budget.available()).isEqualTo(904 + 4096);
        OutputBuffer third = new OutputBuffer(8192, OutputBuffer.Policy.KEEP_NEWEST, budget);
        append(third, "d".repeat(3000));
        assertThat(third.dropped()).isZero();
        second.release();
        third.release();
        assertThat(budget.available()).isEqualTo(8000);
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

    @Test
    void anEndedBufferHoldsWhatItRetainsNotWhatItGrewTo() {
        OutputBuffer buffer = new OutputBuffer(1 << 20, OutputBuffer.Policy.KEEP_NEWEST);
        String output = "x".repeat(6000) + "end";
        append(buffer, output.substring(0, 3000)); // 4 KiB at first
        append(buffer, output.substring(3000)); // then doubled
        assertThat(buffer.held()).as("grown by doubling").isEqualTo(8192);
        buffer.release();
        assertThat(buffer.held()).as("what the retained limit counts").isEqualTo(buffer.retained()).isEqualTo(6003);
        assertThat(text(buffer)).isEqualTo(output);

        OutputBuffer ring = new OutputBuffer(5000, OutputBuffer.Policy.KEEP_NEWEST);
        append(ring, "a".repeat(4999));
        append(ring, "bcd"); // wraps: the newest 5000 bytes start inside the array
        ring.release();
        assertThat(ring.held()).isEqualTo(5000);
        assertThat(text(ring)).isEqualTo("a".repeat(4997) + "bcd");
    }

    private static void append(OutputBuffer buffer, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        buffer.append(ByteBuffer.wrap(bytes, 0, bytes.length));
    }

    private static String text(OutputBuffer buffer) {
        return new String(OutputBuffers.bytes(buffer), StandardCharsets.UTF_8);
    }

    private static String text(OutputBuffer.Retained view) {
        byte[] bytes = new byte[view.length()];
        view.read(0, bytes, 0, bytes.length);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
