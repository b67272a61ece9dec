package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one output stream of a process into its {@link OutputBuffer}, on a platform thread of its own
 * (reads from pipes and terminals block in native code and would pin a virtual thread's carrier).
 * The relay ends at end-of-file, or when the exec closes the stream after the copy-after-exit timeout.
 */
final class OutputRelay {

    private static final Logger log = LoggerFactory.getLogger(OutputRelay.class);
    static final int CHUNK = 64 * 1024;
    static final long STACK_SIZE = 256 * 1024;

    private OutputRelay() {
    }

    /** Starts the relay; the future completes with the number of bytes copied once the stream has ended. */
    static CompletableFuture<Long> start(String execId, String stream, InputStream in, OutputBuffer sink) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("exec-" + execId + "-" + stream).stackSize(STACK_SIZE).start(() -> {
            long copied = 0;
            byte[] chunk = new byte[CHUNK];
            try (in) {
                int n;
                while ((n = in.read(chunk)) >= 0) {
                    sink.append(chunk, 0, n);
                    copied += n;
                }
                log.debug("exec {}: {} relay complete, {} bytes", execId, stream, copied);
            } catch (IOException e) {
                // Closed by the exec after the copy-after-exit timeout, or the stream broke: either way it is over.
                log.debug("exec {}: {} relay ended after {} bytes: {}", execId, stream, copied, e.toString());
            } finally {
                done.complete(copied);
            }
        });
        return done;
    }
}
