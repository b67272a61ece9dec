package io.execgate.host;

import java.time.Instant;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * What a backend reports about one of its targets.
 *
 * @param ref       kind and id
 * @param runtime   the backend that runs it ({@code local}, {@code runc}, {@code hcs}, {@code qemu})
 * @param state     the backend's own state word ({@code running}, {@code stopped}, ...)
 * @param pid       the target's main process on the service's host, when there is one
 * @param createdAt when the target was created, when known
 * @param labels    labels or annotations, never null
 * @param root      where the backend keeps the target's state (an OCI runtime's {@code --root}), when that tells
 *                  targets with the same id apart
 * @param uvm       details only utility VMs have, null for other kinds
 */
public record TargetInfo(TargetRef ref, String runtime, String state, @Nullable Long pid,
        @Nullable Instant createdAt, Map<String, String> labels, @Nullable String root, @Nullable UvmDetails uvm) {

    public TargetInfo {
        labels = Map.copyOf(labels);
    }

    /** Details of a utility VM: how it is accelerated, its size, how long it took to boot, why it failed. */
    public record UvmDetails(@Nullable String accel, @Nullable Integer memoryMiB, @Nullable Integer cpus,
            @Nullable Long bootMillis, @Nullable String error) {
    }
}
