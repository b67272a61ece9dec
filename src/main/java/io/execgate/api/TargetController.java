package io.execgate.api;

import java.util.List;
import java.util.Locale;

import io.execgate.api.TargetViews.BackendView;
import io.execgate.api.TargetViews.ContainerView;
import io.execgate.api.TargetViews.HostView;
import io.execgate.api.TargetViews.UvmView;
import io.execgate.host.AmbiguousTargetException;
import io.execgate.host.HostName;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.host.Targets;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The places commands can run in, as every backend reports them. */
@RestController
@RequestMapping(path = "/api/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Targets", description = "The host, containers and utility VMs commands can run in")
class TargetController {

    private final Targets targets;

    TargetController(Targets targets) {
        this.targets = targets;
    }

    @Operation(summary = "Describe the service's host and its backends")
    @GetMapping("/host")
    HostView host() {
        String id = targets.host().map(t -> t.ref().id()).orElse(HostName.current());
        return new HostView(id, os(), arch(), targets.backends().stream().map(BackendView::of).toList());
    }

    @Operation(summary = "List containers from every container backend")
    @GetMapping("/containers")
    List<ContainerView> containers() {
        return targets.list(TargetKind.CONTAINER).stream().map(ContainerView::of).toList();
    }

    @Operation(summary = "Describe one container")
    @ErrorResponses({ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT})
    @GetMapping("/containers/{id}")
    ContainerView container(@PathVariable String id) {
        try {
            return targets.describe(new TargetRef(TargetKind.CONTAINER, id)).map(ContainerView::of)
                    .orElseThrow(() -> notFound("container", id));
        } catch (AmbiguousTargetException e) {
            throw ApiException.ambiguous(e);
        }
    }

    @Operation(summary = "List utility VMs from every UVM backend")
    @GetMapping("/uvms")
    List<UvmView> uvms() {
        return targets.list(TargetKind.UVM).stream().map(UvmView::of).toList();
    }

    @Operation(summary = "Describe one utility VM")
    @ErrorResponses(ErrorCode.TARGET_NOT_FOUND)
    @GetMapping("/uvms/{id}")
    UvmView uvm(@PathVariable String id) {
        return targets.describe(new TargetRef(TargetKind.UVM, id)).map(UvmView::of)
                .orElseThrow(() -> notFound("uvm", id));
    }

    private static ApiException notFound(String kind, String id) {
        return new ApiException(ErrorCode.TARGET_NOT_FOUND, "no " + kind + " has the id " + id);
    }

    /** Go's names ({@code linux}, {@code windows}), as Docker and Kubernetes report them. */
    private static String os() {
        String name = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        return name.startsWith("windows") ? "windows" : name.startsWith("mac") ? "darwin" : name;
    }

    private static String arch() {
        String arch = System.getProperty("os.arch", "unknown");
        return switch (arch) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> arch;
        };
    }
}
