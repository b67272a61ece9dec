package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

import io.execgate.host.ConsoleSize;

/** The parent's side of a local process's standard streams: pipes ({@link PipeIo}) or a terminal ({@link Terminal}). */
interface ProcessIo extends AutoCloseable {

    Optional<OutputStream> stdin();

    Optional<InputStream> stdout();

    Optional<InputStream> stderr();

    /** Makes the process read end-of-file. */
    void closeStdin() throws IOException;

    void resize(ConsoleSize size) throws IOException;

    /** Closes every stream; blocked reads and writes end. Idempotent. */
    @Override
    void close();
}
