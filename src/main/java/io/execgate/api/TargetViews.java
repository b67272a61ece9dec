package io.execgate.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.execgate.host.BackendStatus;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** The target resources. */
final class TargetViews {

    private TargetViews() {
    }

    @Schema(name = "Host", description = "The service's own host and the backends it offers.")
    record HostView(@Schema(example = "node-1") String id, @Schema(example = "linux") String os,
            @Schema(example = "amd64") String arch, List<BackendView> backends) {
    }

    @Schema(name = "Backend", description = "A backend, whether it can be used here, and why not.")
    record BackendView(@Schema(example = "local") String name, @Schema(example = "host") TargetKind kind,
            boolean available, @Schema(example = "posix_spawn, glibc 2.36") String detail) {

        static BackendView of(BackendStatus status) {
            return new BackendView(status.name(), status.kind(), status.available(), status.detail());
        }
    }

    @Schema(name = "Container", description = "A container an OCI runtime manages. An id found under two runtime "
            + "roots is addressed as <last segment of root>:<id>, e.g. k8s.io:abc.")
    record ContainerView(@Schema(example = "ctr1") String id, @Schema(example = "runc") String runtime,
            @Schema(example = "running") String state, @Nullable Long pid, @Nullable Instant createdAt,
            @Schema(description = "the annotations of the container's config.json") Map<String, String> labels,
            @Schema(example = "/run/runc", description = "the runtime state directory (--root) it is under")
            @Nullable String root) {

        static ContainerView of(TargetInfo info) {
            return new ContainerView(info.ref().id(), info.runtime(), info.state(), info.pid(), info.createdAt(),
                    info.labels(), info.root());
        }
    }

    @Schema(name = "Uvm", description = "A utility VM.")
    record UvmView(@Schema(example = "uvm1") String id, @Schema(example = "qemu") String runtime,
            @Schema(example = "running") String state, @Schema(example = "kvm") @Nullable String accel,
            @Schema(example = "256") @Nullable Integer memoryMiB, @Schema(example = "1") @Nullable Integer cpus,
            @Nullable Instant createdAt, @Nullable Long bootMillis, @Nullable String error) {

        static UvmView of(TargetInfo info) {
            TargetInfo.UvmDetails uvm = info.uvm();
            return new UvmView(info.ref().id(), info.runtime(), info.state(), uvm == null ? null : uvm.accel(),
                    uvm == null ? null : uvm.memoryMiB(), uvm == null ? null : uvm.cpus(), info.createdAt(),
                    uvm == null ? null : uvm.bootMillis(), uvm == null ? null : uvm.error());
        }
    }
}
