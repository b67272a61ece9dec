package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** A run's output written into JSON straight from its buffer, through the mapper Spring uses. */
class RunOutputTest {

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void textIsOneJsonStringWithItsCharactersEscaped() {
        OutputBuffer buffer = filled(OutputBuffer.Policy.KEEP_OLDEST, 1 << 20, "line \"one\"\n\ttab\\ €𝄞\u0001".getBytes(StandardCharsets.UTF_8));
        RunOutput output = RunOutput.of(buffer, false);
        assertThat(output.isUtf8()).isTrue();
        assertThat(json.writeValueAsString(output)).isEqualTo("\"line \\\"one\\\"\\n\\ttab\\\\ €𝄞\\u0001\"");
    }

    @Test
    void longOutputsGoOutWholeAcrossTheSlicesAndCharactersOnTheirEdges() {
        String text = "a€𝄞é\n".repeat(200_000); // about 2 MB, characters straddling every read's edge
        OutputBuffer buffer = filled(OutputBuffer.Policy.KEEP_OLDEST, 4 << 20, text.getBytes(StandardCharsets.UTF_8));
        assertThat(json.readValue(json.writeValueAsString(RunOutput.of(buffer, false)), String.class)).isEqualTo(text);
    }

    @Test
    void binaryIsBase64OfExactlyTheBytes() {
        byte[] bytes = new byte[300_001];
        new Random(7).nextBytes(bytes);
        OutputBuffer buffer = filled(OutputBuffer.Policy.KEEP_OLDEST, 1 << 20, bytes);
        RunOutput output = RunOutput.of(buffer, false);
        assertThat(output.isUtf8()).isFalse();
        String encoded = json.readValue(json.writeValueAsString(output.asBase64()), String.class);
        assertThat(encoded).isEqualTo(Base64.getEncoder().encodeToString(bytes));
    }

    @Test
    void aCharacterCutByTheLimitIsLeftOutAndTheRestIsText() {
        byte[] whole = "ab€".getBytes(StandardCharsets.UTF_8); // 2 + 3 bytes
        OutputBuffer buffer = filled(OutputBuffer.Policy.KEEP_OLDEST, 4, whole); // keeps "ab" and half the euro
        RunOutput output = RunOutput.of(buffer, buffer.dropped() > 0);
        assertThat(output.length()).isEqualTo(2);
        assertThat(output.isUtf8()).isTrue();
        assertThat(json.writeValueAsString(output)).isEqualTo("\"ab\"");
    }

    @Test
    void binaryCutByTheLimitKeepsEveryByteEvenOnesThatLookLikeACutCharacter() {
        byte[] bytes = {(byte) 0xff, 'a', (byte) 0xe2, (byte) 0x82, 'z'}; // ends, at the limit, like a cut euro sign
        OutputBuffer buffer = filled(OutputBuffer.Policy.KEEP_OLDEST, 4, bytes);
        RunOutput output = RunOutput.of(buffer, buffer.dropped() > 0);
        assertThat(output.isUtf8()).isFalse();
        String encoded = json.readValue(json.writeValueAsString(output.asBase64()), String.class);
        assertThat(Base64.getDecoder().decode(encoded)).containsExactly(0xff, 'a', 0xe2, 0x82);
    }

    @Test
    void aRingIsReadOldestFirstAcrossItsWrap() {
        OutputBuffer buffer = new OutputBuffer(8, OutputBuffer.Policy.KEEP_NEWEST);
        buffer.append(ByteBuffer.wrap("abcdef".getBytes(StandardCharsets.US_ASCII)));
        buffer.append(ByteBuffer.wrap("ghij".getBytes(StandardCharsets.US_ASCII))); // wraps: cdefghij
        assertThat(json.writeValueAsString(RunOutput.of(buffer, false))).isEqualTo("\"cdefghij\"");
        byte[] middle = new byte[5];
        OutputBuffer.Retained view = buffer.retainedNow();
        assertThat(view.read(2, middle, 0, 5)).isEqualTo(5);
        assertThat(new String(middle, StandardCharsets.US_ASCII)).isEqualTo("efghi");
        assertThat(view.read(8, middle, 0, 5)).as("nothing past the end").isZero();
    }

    @Test
    void anEmptyOutputIsAnEmptyString() {
        OutputBuffer buffer = new OutputBuffer(16, OutputBuffer.Policy.KEEP_OLDEST);
        assertThat(json.writeValueAsString(RunOutput.of(buffer, false))).isEqualTo("\"\"");
        assertThat(json.writeValueAsString(RunOutput.of(buffer, false).asBase64())).isEqualTo("\"\"");
    }

    private static OutputBuffer filled(OutputBuffer.Policy policy, int capacity, byte[] bytes) {
        OutputBuffer buffer = new OutputBuffer(capacity, policy);
        for (int at = 0; at < bytes.length; at += 4096) { // as a relay hands it over
            buffer.append(ByteBuffer.wrap(bytes, at, Math.min(4096, bytes.length - at)));
        }
        return buffer;
    }
}
