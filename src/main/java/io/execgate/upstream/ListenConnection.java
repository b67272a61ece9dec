package io.execgate.upstream;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * {@code listen}: execgate makes the FIFOs in a private directory and lists them in the exec resource; the
 * exec starts once its client has opened every output FIFO for reading (stdin needs no wait: the process reads
 * when the client writes), or fails after the connect timeout.
 */
final class ListenConnection extends PipeConnection {

    private final Path dir;

    private ListenConnection(Path dir, @Nullable Path stdin, @Nullable Path stdout, @Nullable Path stderr,
            Duration connectTimeout) {
        super(stdin, stdout, stderr, connectTimeout, connectTimeout); // a client that goes away may come back as quickly
        this.dir = dir;
    }

    /** Makes the directory and the FIFOs asked for. */
    static ListenConnection prepare(UpstreamPlan.Listen plan, Path parent, String execId, Duration connectTimeout)
            throws IOException {
        Path dir = PrivateDir.create(parent, execId);
        try {
            Path stdin = plan.stdin() ? fifo(dir, "stdin") : null;
            Path stdout = plan.stdout() ? fifo(dir, "stdout") : null;
            Path stderr = plan.stderr() ? fifo(dir, "stderr") : null;
            return new ListenConnection(dir, stdin, stdout, stderr, connectTimeout);
        } catch (IOException | RuntimeException e) {
            PrivateDir.delete(dir);
            throw e;
        }
    }

    private static Path fifo(Path dir, String name) throws IOException {
        Path path = dir.resolve(name);
        Fifos.make(path);
        return path;
    }

    @Override
    public boolean waitsForClient() {
        return true;
    }

    @Override
    public void close() {
        super.close();
        PrivateDir.delete(dir);
    }
}
