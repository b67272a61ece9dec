package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

import io.execgate.host.local.PolledDescriptor;

/** An exec's stdin from a FIFO someone else writes: end-of-file when that writer closes it (no reconnect, as in hcsshim). */
final class FifoReader extends InputStream {

    private final PolledDescriptor fifo;

    private FifoReader(PolledDescriptor fifo) {
        this.fifo = fifo;
    }

    static FifoReader open(Path path) throws IOException {
        return new FifoReader(Fifos.openForReading(path));
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        return length == 0 ? 0 : fifo.read(buffer, offset, length);
    }

    /** Ends a read under way; the reader reads end-of-file. */
    @Override
    public void close() {
        fifo.close();
    }
}
