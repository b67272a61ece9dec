package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import org.jspecify.annotations.Nullable;

/**
 * FIFOs the caller made: execgate opens them as the client, stdout and stderr for writing (reopened when their
 * reader goes away), stdin for reading. Also the end of {@link ListenConnection} and {@link BinaryLoggerConnection},
 * whose FIFOs execgate made itself.
 */
class PipeConnection implements UpstreamConnection {

    private final @Nullable Path stdinPath;
    private final @Nullable Path stdoutPath;
    private final @Nullable Path stderrPath;
    private final @Nullable Duration retryTimeout;
    private final Duration connectTimeout;
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile @Nullable InputStream stdin;
    private volatile @Nullable FifoWriter stdout;
    private volatile @Nullable FifoWriter stderr;

    PipeConnection(@Nullable Path stdinPath, @Nullable Path stdoutPath, @Nullable Path stderrPath,
            @Nullable Duration retryTimeout, Duration connectTimeout) {
        this.stdinPath = stdinPath;
        this.stdoutPath = stdoutPath;
        this.stderrPath = stderrPath;
        this.retryTimeout = retryTimeout;
        this.connectTimeout = connectTimeout;
    }

    @Override
    public Paths paths() {
        return new Paths(string(stdinPath), string(stdoutPath), string(stderrPath));
    }

    private static @Nullable String string(@Nullable Path path) {
        return path == null ? null : path.toString();
    }

    @Override
    public boolean waitsForClient() {
        return false;
    }

    /**
     * Checks every path first, so that a typo fails at once rather than after another pipe's timeout. On failure
     * what was opened stays open for {@link #close()}, which the exec calls once it has recorded its end: a reader
     * that sees its FIFO end can then read the exec's status.
     */
    @Override
    public void connect() throws IOException {
        for (Path path : new Path[] {stdinPath, stdoutPath, stderrPath}) {
            if (path != null) {
                Fifos.check(path);
            }
        }
        if (stdinPath != null) {
            // First, and without waiting: a client that opens its write end first waits for this reader.
            stdin = Fifos.openForReading(stdinPath).inputStream(); // end-of-file when its writer closes it
        }
        // One deadline for both: the connect timeout is the exec's, not each stream's in turn.
        long deadline = System.nanoTime() + connectTimeout.toNanos();
        if (stdoutPath != null) {
            stdout = FifoWriter.connect(stdoutPath, left(deadline), retryTimeout, closed);
        }
        if (stderrPath != null) {
            stderr = FifoWriter.connect(stderrPath, left(deadline), retryTimeout, closed);
        }
        if (closed.getCount() == 0) {
            closeStreams(); // a close() raced the opens: what they opened after it goes too
            throw new IOException("closed while connecting");
        }
    }

    /** What is left until {@code deadline}; none past it (the writer then tries once more). */
    private static Duration left(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    @Override
    public Optional<InputStream> stdin() {
        return Optional.ofNullable(stdin);
    }

    @Override
    public Optional<OutputStream> stdout() {
        return Optional.ofNullable(stdout);
    }

    @Override
    public Optional<OutputStream> stderr() {
        return Optional.ofNullable(stderr);
    }

    @Override
    public void close() {
        closed.countDown();
        closeStreams();
    }

    private void closeStreams() {
        InputStream in = stdin;
        FifoWriter out = stdout;
        FifoWriter err = stderr;
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing our own descriptor
            }
        }
        if (out != null) {
            out.close();
        }
        if (err != null) {
            err.close();
        }
    }
}
