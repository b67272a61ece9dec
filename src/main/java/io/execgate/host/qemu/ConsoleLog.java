package io.execgate.host.qemu;

import java.io.IOException;
import java.io.InputStream;

/** The newest bytes of a UVM's serial console, at most a configured capacity; read by a platform thread. */
final class ConsoleLog {

    private final byte[] ring;
    private long written;

    ConsoleLog(int capacity) {
        this.ring = new byte[Math.max(1, capacity)];
    }

    /** Copies the stream into the ring until it ends (QEMU exits), then closes it; on the calling thread. */
    void copy(InputStream in) {
        byte[] chunk = new byte[4096];
        try (in) {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                append(chunk, n);
            }
        } catch (IOException ended) {
            // QEMU is gone
        }
    }

    synchronized void append(byte[] data, int length) {
        int from = Math.max(0, length - ring.length); // more than the ring holds: only the newest bytes matter
        written += from;
        while (from < length) {
            int at = (int) (written % ring.length);
            int n = Math.min(length - from, ring.length - at);
            System.arraycopy(data, from, ring, at, n);
            from += n;
            written += n;
        }
    }

    /** What the ring holds, oldest first. */
    synchronized byte[] snapshot() {
        int length = (int) Math.min(written, ring.length);
        byte[] copy = new byte[length];
        int start = (int) ((written - length) % ring.length);
        int first = Math.min(length, ring.length - start);
        System.arraycopy(ring, start, copy, 0, first);
        System.arraycopy(ring, 0, copy, first, length - first);
        return copy;
    }
}
