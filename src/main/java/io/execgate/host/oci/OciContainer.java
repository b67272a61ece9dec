package io.execgate.host.oci;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * One container as the runtime's {@code list} or {@code state} reports it.
 *
 * @param id          the runtime's container id
 * @param root        the runtime state directory it lives in
 * @param status      {@code created}, {@code running}, {@code paused} or {@code stopped}
 * @param pid         its init process on the host, 0 when stopped
 * @param bundle      the bundle directory, where {@code config.json} is
 * @param createdAt   when it was created, when the runtime said
 * @param annotations the annotations of its {@code config.json}
 */
record OciContainer(String id, Path root, String status, long pid, @Nullable Path bundle, @Nullable Instant createdAt,
        Map<String, String> annotations) {

    OciContainer {
        annotations = Map.copyOf(annotations);
    }

    boolean running() {
        return "running".equals(status);
    }
}
