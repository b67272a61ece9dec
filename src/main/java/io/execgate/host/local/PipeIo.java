package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.Optional;

import io.execgate.host.ConsoleSize;
import org.jspecify.annotations.Nullable;

/**
 * Pipes to a process, as {@link FileChannel}s (stdin as a {@link PipeStdin}): unlike {@code FileInputStream}, a
 * read blocked on one ends when another thread closes it, which is how a relay held open by a grandchild is let go.
 */
final class PipeIo implements ProcessIo {

    private final @Nullable PipeStdin stdin;
    private final @Nullable FileChannel stdout;
    private final @Nullable FileChannel stderr;
    private final Optional<OutputStream> stdinStream;
    private final Optional<InputStream> stdoutStream;
    private final Optional<InputStream> stderrStream;

    PipeIo(@Nullable PipeStdin stdin, @Nullable FileChannel stdout, @Nullable FileChannel stderr) {
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdinStream = Optional.<OutputStream>ofNullable(stdin);
        this.stdoutStream = Optional.ofNullable(stdout).map(Channels::newInputStream);
        this.stderrStream = Optional.ofNullable(stderr).map(Channels::newInputStream);
    }

    @Override
    public Optional<OutputStream> stdin() {
        return stdinStream;
    }

    @Override
    public Optional<InputStream> stdout() {
        return stdoutStream;
    }

    @Override
    public Optional<InputStream> stderr() {
        return stderrStream;
    }

    @Override
    public void closeStdin() {
        PosixSpawner.closeQuietly(stdin);
    }

    @Override
    public void resize(ConsoleSize size) throws IOException {
        throw new IOException("the process has no terminal");
    }

    @Override
    public void close() {
        PosixSpawner.closeQuietly(stdin);
        PosixSpawner.closeQuietly(stdout);
        PosixSpawner.closeQuietly(stderr);
    }
}
