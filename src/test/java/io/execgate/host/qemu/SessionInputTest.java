package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** A guest stream as the host buffers it: every byte in order, and tiny frames not an array each. */
class SessionInputTest {

    @Test
    void aWindowOfOneByteFramesTakesAFewArraysAndReadsBackInOrder() throws Exception {
        AtomicLong credited = new AtomicLong();
        SessionInput input = new SessionInput(credited::addAndGet);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        for (int i = 0; i < 256 * 1024; i++) {
            byte[] frame = {(byte) i};
            sent.write(frame);
            input.put(frame);
        }
        assertThat(input.chunkCount()).as("arrays for 256 KiB of one-byte frames").isLessThanOrEqualTo(64);
        // larger frames as they came, between small ones
        for (int size : new int[] {SessionInput.SMALL_FRAME, 7, SessionInput.SMALL_FRAME * 3, 1, 1, 5000, 3}) {
            byte[] frame = new byte[size];
            for (int i = 0; i < size; i++) {
                frame[i] = (byte) (i * 31 + size);
            }
            sent.write(frame);
            input.put(frame);
        }
        input.put(new byte[0]); // the end
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        byte[] buffer = new byte[1000]; // reads that end inside chunks
        for (int n; (n = input.read(buffer, 0, buffer.length)) >= 0; ) {
            read.write(buffer, 0, n);
        }
        assertThat(read.toByteArray()).isEqualTo(sent.toByteArray());
        assertThat(credited.get()).as("every byte read is credited back").isEqualTo(sent.size());
    }

    @Test
    void smallFramesAfterTheSharedChunkWasReadOutStartANewOne() throws Exception {
        SessionInput input = new SessionInput(n -> { });
        input.put(new byte[] {1, 2});
        byte[] two = new byte[2];
        assertThat(input.read(two, 0, 2)).isEqualTo(2);
        input.put(new byte[] {3});
        input.put(new byte[] {4});
        byte[] rest = new byte[4];
        assertThat(input.read(rest, 0, 4)).isEqualTo(2);
        assertThat(rest[0]).isEqualTo((byte) 3);
        assertThat(rest[1]).isEqualTo((byte) 4);
    }
}
