package io.execgate.upstream;

import java.io.IOException;
import java.nio.file.Path;

import io.execgate.ExecgateProperties;
import org.springframework.stereotype.Component;

/** Makes the {@link UpstreamConnection} of an exec from its plan. */
@Component
public class Upstreams {

    private final UpstreamProperties properties;
    private final Path dirs;

    public Upstreams(UpstreamProperties properties, ExecgateProperties service) {
        this.properties = properties;
        this.dirs = service.dataDir().resolve("upstream").toAbsolutePath();
        PrivateDir.sweep(dirs);
    }

    /**
     * Prepares the IO of an exec without waiting for anything: the FIFOs execgate makes exist afterwards, and
     * {@link UpstreamConnection#paths()} names them.
     */
    public UpstreamConnection prepare(UpstreamPlan plan, String execId) throws IOException {
        return switch (plan) {
            case UpstreamPlan.Pipes pipes -> new PipeConnection(pipes.stdin(), pipes.stdout(), pipes.stderr(),
                    pipes.retryTimeout(), properties.connectTimeout());
            case UpstreamPlan.Listen listen -> ListenConnection.prepare(listen, dirs, execId, properties.connectTimeout());
            case UpstreamPlan.Binary binary -> BinaryLoggerConnection.prepare(binary, dirs, execId, properties);
        };
    }
}
