package io.execgate.api;

import java.net.URI;
import java.util.List;

import io.execgate.api.TargetViews.UvmView;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.host.Targets;
import io.execgate.host.UvmLifecycle;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Validator;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.util.UrlPathHelper;
import org.springframework.web.bind.annotation.RestController;

/** The life of the utility VMs execgate boots itself (QEMU): create, power off, read the serial console. */
@RestController
@RequestMapping(path = "/api/v1/uvms")
@Tag(name = "Targets")
class UvmController {

    private final UvmLifecycle uvms;
    private final Targets targets;
    private final ObjectProvider<UvmActionObserver> observers;
    private final Validator validator;

    UvmController(UvmLifecycle uvms, Targets targets, ObjectProvider<UvmActionObserver> observers, Validator validator) {
        this.uvms = uvms;
        this.targets = targets;
        this.observers = observers;
        this.validator = validator;
    }

    @Operation(summary = "Boot a utility VM", description = "Starts QEMU with the image from uvm/build-image and answers at "
            + "once with the VM in state booting (running once its agent answers; failed with an error otherwise). "
            + "Execs into a booting VM wait for its boot.")
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.CONFLICT, ErrorCode.BACKEND_UNAVAILABLE})
    @ApiResponse(responseCode = "201", description = "Booting; the Location header names the VM", useReturnTypeSchema = true,
            headers = @Header(name = "Location", description = "/api/v1/uvms/{id}", schema = @Schema(type = "string")))
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<UvmView> createUvm(@RequestBody UvmRequest request, HttpServletRequest http) {
        // Validated here rather than by @Valid, which refuses before this method runs: a refused boot is audited too.
        List<FieldProblem> invalid = FieldProblem.of(validator.validate(request));
        if (!invalid.isEmpty()) {
            ApiException problem = ApiException.invalid("the UVM request is not valid", invalid);
            // an id that is not one is not repeated into the audit trail (it may be any text up to the body limit)
            tell(http, "uvm.create", invalid.stream().anyMatch(f -> f.field().equals("id")) ? null : request.id(), problem);
            throw problem;
        }
        UvmView view;
        try {
            view = UvmView.of(uvms.create(request.id(), request.memoryMiB(), request.cpus()));
        } catch (UvmLifecycle.Refusal refusal) {
            ApiException problem = problem(refusal);
            tell(http, "uvm.create", request.id(), problem);
            throw problem;
        } catch (RuntimeException e) {
            tell(http, "uvm.create", request.id(), HttpStatus.INTERNAL_SERVER_ERROR.value(), e.toString());
            throw e;
        }
        tell(http, "uvm.create", view.id(), HttpStatus.CREATED.value(), null);
        return ResponseEntity.created(URI.create("/api/v1/uvms/" + view.id())).body(view);
    }

    @Operation(summary = "Power a utility VM off", description = "Asks the guest to power off, kills QEMU after the grace "
            + "period (execgate.backends.qemu.stop-grace-period), and forgets the VM; its running execs end with reason lost.")
    @ErrorResponses({ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT})
    @ApiResponse(responseCode = "204", description = "Powered off and gone")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> deleteUvm(@PathVariable String id, HttpServletRequest http) {
        if (uvms.delete(id)) {
            tell(http, "uvm.delete", id, HttpStatus.NO_CONTENT.value(), null);
            return ResponseEntity.noContent().build();
        }
        ApiException problem = targets.describe(new TargetRef(TargetKind.UVM, id)).isPresent()
                ? new ApiException(ErrorCode.CONFLICT, "uvm " + id + " was not created by execgate; its owner removes it")
                : new ApiException(ErrorCode.TARGET_NOT_FOUND, "no uvm has the id " + id);
        tell(http, "uvm.delete", id, problem);
        throw problem;
    }

    /**
     * Whether the request asks for a boot ({@code POST /api/v1/uvms}), whether or not it reached the handler: its
     * path as the handler mapping sees it (decoded, without {@code ;} parameters).
     */
    static boolean isBoot(HttpServletRequest http) {
        return "POST".equals(http.getMethod())
                && "/api/v1/uvms".equals(UrlPathHelper.defaultInstance.getPathWithinApplication(http));
    }

    private void tell(HttpServletRequest http, String action, @Nullable String id, ApiException problem) {
        tell(http, action, id, problem.code().status().value(), problem.getMessage());
    }

    private void tell(HttpServletRequest http, String action, @Nullable String id, int status, @Nullable String detail) {
        observers.forEach(observer -> observer.uvmAction(http, action, id, status, detail));
    }

    @Operation(summary = "Read a utility VM's serial console", description = "The newest bytes of the console "
            + "(at most execgate.backends.qemu.console-log-size).")
    @ErrorResponses(ErrorCode.TARGET_NOT_FOUND)
    @ApiResponse(responseCode = "200", description = "The console's newest bytes",
            content = @io.swagger.v3.oas.annotations.media.Content(mediaType = "text/plain",
                    schema = @Schema(type = "string")))
    @GetMapping(path = "/{id}/console", produces = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<byte[]> uvmConsole(@PathVariable String id) {
        byte[] console = uvms.console(id).orElseThrow(() -> new ApiException(ErrorCode.TARGET_NOT_FOUND,
                "no uvm execgate booted has the id " + id));
        return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body(console);
    }

    private static ApiException problem(UvmLifecycle.Refusal refusal) {
        return switch (refusal.kind()) {
            case INVALID -> ApiException.invalid(refusal.field() == null ? "request" : refusal.field(), refusal.getMessage());
            case CONFLICT, LIMIT -> new ApiException(ErrorCode.CONFLICT, refusal.getMessage());
            case UNAVAILABLE -> new ApiException(ErrorCode.BACKEND_UNAVAILABLE, refusal.getMessage());
        };
    }
}
