package io.execgate.exec;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

/**
 * Waits on the request's thread for a run-to-completion answer, and checks all the while that the caller is still
 * there. Tomcat does not watch the socket of a request it is serving, so a caller that hangs up cannot be seen
 * until something is written to it. Once a run has lasted one interval the answer begins: the 200 status line and
 * headers, then a space every interval. Whitespace before a JSON value is insignificant, so every JSON parser reads
 * the answer as if the spaces were not there, and proxies with an idle timeout see traffic. A space that cannot be
 * written (two intervals after the caller hung up at most: the first write after a close draws the reset, the
 * next fails) means the caller is gone, and the run is cancelled, which ends its exec.
 */
final class RunKeepAlive {

    private static final byte[] SPACE = {' '};

    private final Duration interval;

    RunKeepAlive(Duration interval) {
        this.interval = interval;
    }

    /** The run's answer, or null when the caller went away first (the run is then cancelled). */
    @Nullable RunResponse await(CompletableFuture<RunResponse> run, HttpServletResponse response)
            throws InterruptedException {
        while (true) {
            try {
                return run.get(interval.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (!keepAlive(response)) {
                    run.cancel(false);
                    return null;
                }
            } catch (InterruptedException e) {
                run.cancel(false); // no one will read the answer: the exec must not run on for it
                throw e;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException failure) {
                    throw failure;
                }
                throw new IllegalStateException("the run failed", e.getCause());
            }
        }
    }

    private static boolean keepAlive(HttpServletResponse response) {
        try {
            if (!response.isCommitted()) {
                response.setStatus(HttpStatus.OK.value());
                response.setContentType(MediaType.APPLICATION_JSON_VALUE);
            }
            response.getOutputStream().write(SPACE);
            response.flushBuffer();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
