package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.execgate.DataDirectory;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;

/**
 * Makes the {@link UpstreamConnection} of an exec from its plan, and keeps the ones not yet closed, so that the
 * service's shutdown (after the exec service has ended its execs) leaves no driver running and no FIFO behind.
 */
@Component
public class Upstreams {

    private final UpstreamProperties properties;
    private final Path dirs;
    private final Set<UpstreamConnection> open = ConcurrentHashMap.newKeySet();

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

    @PreDestroy
    void abortAll() {
        for (UpstreamConnection connection : open) {
            connection.abort();
        }
        PrivateDir.sweep(dirs);
    }

    /** A connection that leaves the open set once it is closed and released (a closed driver has exited). */
    private final class Tracked implements UpstreamConnection {
        private final UpstreamConnection connection;

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
            connection.close();
            connection.released().whenComplete((ignored, error) -> open.remove(this));
        }

        @Override
        public void abort() {
            connection.abort();
            connection.released().whenComplete((ignored, error) -> open.remove(this));
        }
    }
}
