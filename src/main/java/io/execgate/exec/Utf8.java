package io.execgate.exec;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** UTF-8 checks for returning process output as JSON strings. */
final class Utf8 {

    private static final int SCRATCH_CHARS = 8192;

    private Utf8() {
    }

    /**
     * Whether the bytes are UTF-8. Decodes through a small buffer it throws away: decoding all of a run's output
     * at once would cost twice its size in chars (64 MiB for two 16 MiB streams) just to say yes.
     */
    static boolean isValid(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer scratch = CharBuffer.allocate(SCRATCH_CHARS);
        while (true) {
            CoderResult result = decoder.decode(in, scratch, true);
            if (result.isError()) {
                return false;
            }
            if (result.isUnderflow()) {
                return !decoder.flush(scratch).isError();
            }
            scratch.clear(); // overflow: what it decoded is not needed, only that it decoded
        }
    }

    /** Drops a multi-byte sequence cut off at the end (at most three bytes); anything else is left alone. */
    static byte[] trimIncompleteTail(byte[] bytes) {
        int n = bytes.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = bytes[n - back] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue; // a continuation byte: look further back for the lead byte
            }
            int needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return needed > back ? java.util.Arrays.copyOf(bytes, n - back) : bytes;
        }
        return bytes;
    }

    static String encode(byte[] bytes, boolean text) {
        return text ? new String(bytes, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(bytes);
    }
}
