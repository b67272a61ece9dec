package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class Utf8Test {

    @Test
    void tellsTextFromBinary() {
        assertThat(Utf8.isValid("héllo €𝄞".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(Utf8.isValid(new byte[] {(byte) 0xff, 0x00})).isFalse();
        assertThat(Utf8.isValid(new byte[0])).isTrue();
        // Long outputs, decoded a piece at a time: characters across the pieces' edges, a bad byte far in, a cut end.
        byte[] long_ = "a€𝄞é".repeat(50_000).getBytes(StandardCharsets.UTF_8);
        assertThat(Utf8.isValid(long_)).isTrue();
        byte[] badFarIn = long_.clone();
        badFarIn[300_001] = (byte) 0xff;
        assertThat(Utf8.isValid(badFarIn)).isFalse();
        assertThat(Utf8.isValid(java.util.Arrays.copyOf(long_, long_.length - 1))).isFalse();
    }

    @Test
    void trimsOnlyACharacterCutOffAtTheEnd() {
        byte[] whole = "a€𝄞".getBytes(StandardCharsets.UTF_8); // 1 + 3 + 4 bytes
        assertThat(Utf8.trimIncompleteTail(Arrays.copyOf(whole, 8))).isEqualTo(whole);
        for (int cut = 5; cut < 8; cut++) {
            assertThat(Utf8.trimIncompleteTail(Arrays.copyOf(whole, cut))).isEqualTo(Arrays.copyOf(whole, 4));
        }
        for (int cut = 2; cut < 4; cut++) {
            assertThat(Utf8.trimIncompleteTail(Arrays.copyOf(whole, cut))).isEqualTo(Arrays.copyOf(whole, 1));
        }
        byte[] binary = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80};
        assertThat(Utf8.trimIncompleteTail(binary)).isEqualTo(binary);
    }

    @Test
    void encodesAsTextOrBase64() {
        assertThat(Utf8.encode("hi".getBytes(StandardCharsets.UTF_8), true)).isEqualTo("hi");
        assertThat(Utf8.encode(new byte[] {(byte) 0xff}, false)).isEqualTo("/w==");
    }
}
