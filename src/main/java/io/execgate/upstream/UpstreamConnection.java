package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.jspecify.annotations.Nullable;

/**
 * One exec's upstream IO. {@link #connect()} opens it (and may wait, boundedly); the streams then take the
 * place of the exec's buffers. {@link #close()} ends everything and removes what execgate made, in any state.
 */
public interface UpstreamConnection extends AutoCloseable {

    /** The paths an upstream client uses; for {@code listen}, the FIFOs execgate made. */
    record Paths(@Nullable String stdinPath, @Nullable String stdoutPath, @Nullable String stderrPath) {
    }

    Paths paths();

    /**
     * True when the exec should start in the background once {@link #connect()} returns: its client learns the
     * paths from the exec resource first ({@code listen}).
     */
    boolean waitsForClient();

    /**
     * Opens the pipes (starting a logging driver first); fails when they cannot be, or on {@link #close()}. After a
     * failure the caller still closes the connection.
     */
    void connect() throws IOException;

    /** What the process reads, once connected, when stdin is tied. */
    Optional<InputStream> stdin();

    /** Where the process's stdout goes, once connected, when it is tied. */
    Optional<OutputStream> stdout();

    /** Where the process's stderr goes, once connected, when it is tied. */
    Optional<OutputStream> stderr();

    /** Ends reads, writes and waits under way, closes the pipes, stops a driver, removes execgate's FIFOs. */
    @Override
    void close();

    /** Closes at once for the service's shutdown: a logging driver is killed rather than given its stop timeout. */
    default void abort() {
        close();
    }

    /**
     * Completes once, after {@link #close()}, nothing of this connection is left: a logging driver closed while
     * running has exited (it has its stop timeout to). Until then the service's shutdown still has it to abort.
     */
    default CompletionStage<Void> released() {
        return CompletableFuture.completedFuture(null);
    }
}
