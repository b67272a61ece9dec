package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class Utf8Test {

    @Test
    void tellsTextFromBinary() {
        assertThat(isValid("héllo €𝄞".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(isValid(new byte[] {(byte) 0xff, 0x00})).isFalse();
        assertThat(isValid(new byte[0])).isTrue();
        // Long outputs, decoded a piece at a time: characters across the pieces' edges, a bad byte far in, a cut end.
        byte[] long_ = "a€𝄞é".repeat(50_000).getBytes(StandardCharsets.UTF_8);
        assertThat(isValid(long_)).isTrue();
        byte[] badFarIn = long_.clone();
        badFarIn[300_001] = (byte) 0xff;
        assertThat(isValid(badFarIn)).isFalse();
        assertThat(isValid(Arrays.copyOf(long_, long_.length - 1))).isFalse();
    }

    private static boolean isValid(byte[] bytes) {
        return Utf8.isValid(new ByteArrayInputStream(bytes));
    }

    @Test
    void findsOnlyACharacterCutOffAtTheEnd() {
        byte[] whole = "a€𝄞".getBytes(StandardCharsets.UTF_8); // 1 + 3 + 4 bytes
        assertThat(cutOff(Arrays.copyOf(whole, 8))).isZero();
        for (int cut = 5; cut < 8; cut++) {
            assertThat(cutOff(Arrays.copyOf(whole, cut))).as("cut at %d", cut).isEqualTo(cut - 4);
        }
        for (int cut = 2; cut < 4; cut++) {
            assertThat(cutOff(Arrays.copyOf(whole, cut))).as("cut at %d", cut).isEqualTo(cut - 1);
        }
        assertThat(cutOff(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80})).isZero();
        assertThat(cutOff(new byte[0])).isZero();
    }

    /** What {@link Utf8#incompleteTail} says of the last three bytes, as its callers ask. */
    private static int cutOff(byte[] bytes) {
        return Utf8.incompleteTail(Arrays.copyOfRange(bytes, Math.max(0, bytes.length - 3), bytes.length));
    }
}
