package io.execgate.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A process a {@link ProcessHost} started. Its streams are blocking and must be read on platform threads.
 * Closing a stream from another thread makes a read blocked on it return or throw: that is how the exec layer
 * ends relays that a grandchild keeps open.
 */
public interface HostProcess extends AutoCloseable {

    /** The process id as its host sees it. */
    long pid();

    /** The process's stdin, when the spec opened it. */
    Optional<OutputStream> stdin();

    /** The process's stdout (the terminal's output with a tty), when the spec opened it. */
    Optional<InputStream> stdout();

    /** The process's stderr, when the spec opened it; never present with a tty. */
    Optional<InputStream> stderr();

    /** Completes once the process has exited, or with {@link ExitReason#LOST} when the backend loses it. */
    CompletableFuture<ExitStatus> onExit();

    /** Delivers a signal to the process. Does nothing once it has exited. */
    void signal(Signal signal) throws IOException;

    /** Asks the process and what it started to stop (SIGTERM to its process group). Does not wait. */
    void terminate() throws IOException;

    /** Ends the process and what it started at once (SIGKILL to its process group). Does not wait. */
    void kill() throws IOException;

    /** Resizes the terminal. */
    void resize(ConsoleSize size) throws IOException;

    /** Makes the process read end-of-file on stdin. Idempotent. */
    void closeStdin() throws IOException;

    /** Closes every stream; reads blocked on them end. Does not stop the process. Idempotent. */
    @Override
    void close();
}
