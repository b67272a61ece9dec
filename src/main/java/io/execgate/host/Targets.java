package io.execgate.host;

import java.util.List;
import java.util.Optional;

import org.springframework.stereotype.Component;

/** Every registered {@link TargetProvider}, looked up by kind and id. */
@Component
public class Targets {

    private final List<TargetProvider> providers;

    public Targets(List<TargetProvider> providers) {
        this.providers = List.copyOf(providers);
    }

    /** The backend at {@code index} of {@link #backends()}, checked now; for health checks. */
    public BackendStatus check(int index) {
        return providers.get(index).check();
    }

    /** Each backend's status, in registration order. */
    public List<BackendStatus> backends() {
        return providers.stream().map(TargetProvider::status).toList();
    }

    /** Every target of a kind, from every backend of that kind. */
    public List<TargetInfo> list(TargetKind kind) {
        return ofKind(kind).flatMap(p -> p.list().stream()).toList();
    }

    public Optional<TargetInfo> describe(TargetRef ref) {
        return ofKind(ref.kind()).flatMap(p -> p.describe(ref.id()).stream()).findFirst();
    }

    public Optional<ProcessHost> open(TargetRef ref) {
        return ofKind(ref.kind()).flatMap(p -> p.open(ref.id()).stream()).findFirst();
    }

    /** The service's own host, when a host backend is available. */
    public Optional<TargetInfo> host() {
        return list(TargetKind.HOST).stream().findFirst();
    }

    private java.util.stream.Stream<TargetProvider> ofKind(TargetKind kind) {
        return providers.stream().filter(p -> p.kind() == kind && p.status().available());
    }
}
