package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 checks for returning process output as JSON strings. */
final class Utf8 {

    private static final int SCRATCH = 8192;

    private Utf8() {
    }

    /**
     * Whether the stream's bytes are UTF-8. Decodes a small slice at a time into a buffer it throws away: decoding
     * all of a run's output at once would cost twice its size in chars (64 MiB for two 16 MiB streams) just to say
     * yes. A character split between two slices waits in the byte buffer for the rest of it.
     */
    static boolean isValid(InputStream in) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer bytes = ByteBuffer.allocate(SCRATCH);
        CharBuffer scratch = CharBuffer.allocate(SCRATCH);
        try {
            while (true) {
                int read = in.read(bytes.array(), bytes.position(), bytes.remaining());
                boolean end = read < 0;
                if (!end) {
                    bytes.position(bytes.position() + read);
                }
                bytes.flip();
                CoderResult result;
                do {
                    result = decoder.decode(bytes, scratch, end);
                    if (result.isError()) {
                        return false;
                    }
                    scratch.clear(); // what it decoded is not needed, only that it decoded
                } while (result.isOverflow());
                bytes.compact();
                if (end) {
                    return !decoder.flush(scratch).isError();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * How many bytes at the end of {@code tail} (the last three bytes of some output, or fewer) are a multi-byte
     * character cut off; 0 when the output ends on a whole character or is not text at all.
     */
    static int incompleteTail(byte[] tail) {
        int n = tail.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = tail[n - back] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue; // a continuation byte: look further back for the lead byte
            }
            int needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
