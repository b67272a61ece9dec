package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.execgate.DataDirectory;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;

/**
 * Makes the {@link UpstreamConnection} of an exec from its plan, and keeps the ones not yet released (open, or
 * closed with their logging driver still in its stop time), so that the service's shutdown (after the exec service
 * has ended its execs) leaves no driver running and no FIFO behind.
 */
@Component
public class Upstreams {

    /** The most the shutdown waits for drivers already told their output has ended, before it kills them. */
    private static final Duration SHUTDOWN_STOP_WAIT = Duration.ofSeconds(2);

    private final UpstreamProperties properties;
    private final Path dirs;
    private final Set<Tracked> open = ConcurrentHashMap.newKeySet();

    public Upstreams(UpstreamProperties properties, DataDirectory data) {
        this.properties = properties;
        this.dirs = data.resolve("upstream");
        PrivateDir.sweep(dirs);
    }

    /**
     * Prepares the IO of an exec without waiting for anything: the FIFOs execgate makes exist afterwards, and
     * {@link UpstreamConnection#paths()} names them.
     */
    public UpstreamConnection prepare(UpstreamPlan plan, String execId) throws IOException {
        UpstreamConnection connection = switch (plan) {
            case UpstreamPlan.Pipes pipes -> new PipeConnection(pipes.stdin(), pipes.stdout(), pipes.stderr(),
                    pipes.retryTimeout(), properties.connectTimeout());
            case UpstreamPlan.Listen listen -> ListenConnection.prepare(listen, dirs, execId, properties.connectTimeout());
            case UpstreamPlan.Binary binary -> BinaryLoggerConnection.prepare(binary, dirs, execId, properties);
        };
        Tracked tracked = new Tracked(connection);
        open.add(tracked);
        return tracked;
    }

    /** Connections still open or not yet released: none once every exec has ended and its driver has exited. */
    int openCount() {
        return open.size();
    }

    /**
     * Kills what is left. A driver already closed (its exec ended just before) gets a little of its stop time
     * first, to write out the exec's last output; one still open gets none.
     */
    @PreDestroy
    void abortAll() {
        CompletableFuture<?>[] stopping = open.stream().filter(Tracked::closed)
                .map(tracked -> tracked.released().toCompletableFuture()).toArray(CompletableFuture[]::new);
        Duration wait = properties.driverStopTimeout().compareTo(SHUTDOWN_STOP_WAIT) < 0
                ? properties.driverStopTimeout() : SHUTDOWN_STOP_WAIT;
        try {
            CompletableFuture.allOf(stopping).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // killed below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Tracked connection : open) {
            connection.abort();
        }
        PrivateDir.sweep(dirs);
    }

    /** A connection that leaves the open set once it is closed and released (a closed driver has exited). */
    private final class Tracked implements UpstreamConnection {
        private final UpstreamConnection connection;
        private final AtomicBoolean closed = new AtomicBoolean();

        Tracked(UpstreamConnection connection) {
            this.connection = connection;
        }

        @Override
        public Paths paths() {
            return connection.paths();
        }

        @Override
        public boolean waitsForClient() {
            return connection.waitsForClient();
        }

        @Override
        public void connect() throws IOException {
            connection.connect();
        }

        @Override
        public Optional<InputStream> stdin() {
            return connection.stdin();
        }

        @Override
        public Optional<OutputStream> stdout() {
            return connection.stdout();
        }

        @Override
        public Optional<OutputStream> stderr() {
            return connection.stderr();
        }

        @Override
        public void close() {
            try {
                connection.close();
            } finally {
                untrackOnRelease();
            }
        }

        @Override
        public void abort() {
            try {
                connection.abort();
            } finally {
                untrackOnRelease();
            }
        }

        @Override
        public CompletionStage<Void> released() {
            return connection.released();
        }

        boolean closed() {
            return closed.get();
        }

        /** Once: a drain guard may close an exec's upstream again at each of its rechecks. */
        private void untrackOnRelease() {
            if (closed.compareAndSet(false, true)) {
                connection.released().whenComplete((ignored, error) -> open.remove(this));
            }
        }
    }
}
