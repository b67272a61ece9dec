package io.execgate.host.hcs;

import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.execgate.host.BackendStatus;
import io.execgate.host.ProcessHost;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import io.execgate.host.TargetRef;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HCS compute systems of one kind: {@code Container} systems as containers, {@code VirtualMachine} systems as
 * utility VMs. Listed from {@code HcsEnumerateComputeSystems} on every call.
 */
final class HcsTargetProvider implements TargetProvider {

    private static final Logger log = LoggerFactory.getLogger(HcsTargetProvider.class);

    private final TargetKind kind;
    private final String systemType;
    private final @Nullable HcsApi api;
    private final BackendStatus status;

    HcsTargetProvider(TargetKind kind, @Nullable HcsApi api, String detail) {
        this.kind = kind;
        this.systemType = kind == TargetKind.UVM ? "VirtualMachine" : "Container";
        this.api = api;
        this.status = new BackendStatus("hcs", kind, api != null, detail);
    }

    @Override
    public TargetKind kind() {
        return kind;
    }

    @Override
    public BackendStatus status() {
        return status;
    }

    @Override
    public List<TargetInfo> list() {
        if (api == null) {
            return List.of();
        }
        try {
            return api.enumerate().stream().filter(s -> systemType.equalsIgnoreCase(s.systemType())).map(this::info).toList();
        } catch (HcsException e) {
            log.warn("cannot list HCS compute systems: {}", e.getMessage());
            return List.of();
        }
    }

    @Override
    public Optional<TargetInfo> describe(String id) {
        return list().stream().filter(t -> t.ref().id().equals(id)).findFirst();
    }

    @Override
    public Optional<ProcessHost> open(String id) {
        if (api == null) {
            return Optional.empty();
        }
        return describe(id).map(t -> new HcsProcessHost(t.ref(), api, id, flavor(t.labels().get("os")), Clock.systemUTC()));
    }

    /** How a system takes a process: a Windows command line, a Linux guest's argv, or a Linux container's OCI spec. */
    private HcsDocuments.Flavor flavor(@Nullable String os) {
        if (!"linux".equals(os)) {
            return HcsDocuments.Flavor.WINDOWS;
        }
        return kind == TargetKind.CONTAINER ? HcsDocuments.Flavor.LINUX_CONTAINER : HcsDocuments.Flavor.LINUX_GUEST;
    }

    private TargetInfo info(HcsDocuments.SystemProperties system) {
        boolean unknown = system.runtimeOsType() == null || system.runtimeOsType().isEmpty();
        // Pre-RS5 HCS left the OS out for Windows containers (hcsshim assumes windows); a VM's is not assumed.
        String os = !unknown ? system.runtimeOsType().toLowerCase(Locale.ROOT) : kind == TargetKind.CONTAINER ? "windows" : "unknown";
        Map<String, String> labels = system.owner() == null ? Map.of("os", os) : Map.of("os", os, "owner", system.owner());
        String state = system.state() == null ? "unknown" : system.state().toLowerCase(Locale.ROOT);
        TargetInfo.UvmDetails uvm = kind == TargetKind.UVM ? new TargetInfo.UvmDetails("hyper-v", null, null, null, null) : null;
        return new TargetInfo(new TargetRef(kind, system.id()), "hcs", state, null, null, labels, null, uvm);
    }
}
