package io.execgate.exec;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.annotation.JsonSerialize;
import tools.jackson.databind.ser.std.StdSerializer;

/**
 * One stream of a run's answer: the first {@code length} bytes of an ended exec's buffer, written into the JSON
 * answer a slice at a time, as UTF-8 text or base64. Building a String first held each output two or three more
 * times on the heap while the answer went out (a byte copy, then the String, for every run answering at once).
 *
 * @param bytes the bytes the buffer held when the exec ended (a view of them, not a copy)
 * @param cut   how many of the last of them are a piece of a character a truncation cut off, left out of text
 * @param text  whether it is written as text; when false, as base64 of every retained byte
 */
@JsonSerialize(using = RunOutput.Json.class)
record RunOutput(OutputBuffer.Retained bytes, int cut, boolean text) {

    /** The buffer's bytes now, as text, less the piece of a character a truncation cut off. */
    static RunOutput of(OutputBuffer buffer, boolean truncated) {
        OutputBuffer.Retained bytes = buffer.retainedNow();
        int cut = 0;
        if (truncated) {
            byte[] tail = new byte[Math.min(3, bytes.length())];
            bytes.read(bytes.length() - tail.length, tail, 0, tail.length);
            cut = Utf8.incompleteTail(tail);
        }
        return new RunOutput(bytes, cut, true);
    }

    /** The bytes written: as text, without a cut-off character; as base64, all of them. */
    int length() {
        return text ? bytes.length() - cut : bytes.length();
    }

    /** Whether the text's bytes are UTF-8. */
    boolean isUtf8() {
        return Utf8.isValid(open(bytes.length() - cut));
    }

    RunOutput asBase64() {
        return new RunOutput(bytes, cut, false);
    }

    /** The first {@code length} bytes, read from the view a slice at a time. */
    private InputStream open(int length) {
        return new InputStream() {
            private int position;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] into, int offset, int count) {
                if (count == 0) {
                    return 0;
                }
                int n = bytes.read(position, into, offset, Math.min(count, length - position));
                if (n <= 0) {
                    return -1;
                }
                position += n;
                return n;
            }
        };
    }

    /** Writes the output as one JSON string, streaming it through the generator's own small buffers. */
    static final class Json extends StdSerializer<RunOutput> {

        Json() {
            super(RunOutput.class);
        }

        @Override
        public void serialize(RunOutput output, JsonGenerator json, SerializationContext context) {
            if (output.text()) {
                json.writeString(new InputStreamReader(output.open(output.length()), StandardCharsets.UTF_8), -1);
            } else {
                json.writeBinary(output.open(output.length()), output.length());
            }
        }
    }
}
