package io.execgate.host.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

import io.execgate.host.ConsoleSize;
import org.jspecify.annotations.Nullable;

/**
 * Pipes to a process: {@link PipeStdin} for its input, {@link OutputPipe}s for its output.
 */
final class PipeIo implements ProcessIo {

    private final @Nullable PipeStdin stdin;
    private final @Nullable OutputPipe stdout;
    private final @Nullable OutputPipe stderr;
    private final Optional<OutputStream> stdinStream;
    private final Optional<InputStream> stdoutStream;
    private final Optional<InputStream> stderrStream;

    PipeIo(@Nullable PipeStdin stdin, @Nullable OutputPipe stdout, @Nullable OutputPipe stderr) {
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdinStream = Optional.<OutputStream>ofNullable(stdin);
        this.stdoutStream = Optional.ofNullable(stdout);
        this.stderrStream = Optional.ofNullable(stderr);
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
