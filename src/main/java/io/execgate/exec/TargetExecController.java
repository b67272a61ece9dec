package io.execgate.exec;

import java.net.URI;

import io.execgate.api.ErrorCode;
import io.execgate.api.ErrorResponses;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.validation.Valid;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** Creating execs in a target: one line per target kind and form. */
@RestController
@RequestMapping(path = "/api/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Execs", description = "Run commands and follow them to their exit")
class TargetExecController {

    private static final String CREATE = "Starts the command and answers at once with the exec resource (201, Location "
            + "header). Follow it with GET .../exit?wait=PT30S.";
    private static final String CREATED = "Started; the Location header names the exec";
    private static final String RUN = "Runs the command to completion and answers with its exit code and output "
            + "(at most maxOutputBytes of each stream). A timeout still answers 200, with exec.reason timeout. "
            + "A run that lasts longer than execgate.exec.run-keep-alive (1 s) begins its 200 answer then and writes a "
            + "space every interval until the JSON follows (whitespace JSON parsers skip); a caller that hangs up "
            + "ends the exec (reason killed), as a cancelled CRI ExecSync does.";

    private final ExecService execs;
    private final RunKeepAlive keepAlive;

    TargetExecController(ExecService execs, ExecProperties properties) {
        this.execs = execs;
        this.keepAlive = new RunKeepAlive(properties.runKeepAlive());
    }

    @Operation(summary = "Start a command on the service's host", description = CREATE)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_START_FAILED, ErrorCode.TOO_MANY_EXECS,
            ErrorCode.BACKEND_UNAVAILABLE})
    @ApiResponse(responseCode = "201", description = CREATED, useReturnTypeSchema = true,
            headers = @Header(name = "Location", description = "/api/v1/execs/{execId}", schema = @Schema(type = "string")))
    @PostMapping("/host/execs")
    ResponseEntity<ExecView> createOnHost(@Valid @RequestBody ExecRequest request) {
        return created(execs.create(execs.hostTarget(), request));
    }

    @Operation(summary = "Run a command on the service's host to completion", description = RUN)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_START_FAILED, ErrorCode.TOO_MANY_EXECS,
            ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping("/host/execs/run")
    @Nullable RunResponse runOnHost(@Valid @RequestBody RunRequest request,
            HttpServletResponse response) throws InterruptedException {
        return keepAlive.await(execs.run(execs.hostTarget(), request), response);
    }

    @Operation(summary = "Start a command in a container", description = CREATE)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.EXEC_START_FAILED,
            ErrorCode.TOO_MANY_EXECS, ErrorCode.BACKEND_UNAVAILABLE})
    @ApiResponse(responseCode = "201", description = CREATED, useReturnTypeSchema = true,
            headers = @Header(name = "Location", description = "/api/v1/execs/{execId}", schema = @Schema(type = "string")))
    @PostMapping("/containers/{id}/execs")
    ResponseEntity<ExecView> createInContainer(@PathVariable String id, @Valid @RequestBody ExecRequest request) {
        return created(execs.create(new TargetRef(TargetKind.CONTAINER, id), request));
    }

    @Operation(summary = "Run a command in a container to completion", description = RUN)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.EXEC_START_FAILED,
            ErrorCode.TOO_MANY_EXECS, ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping("/containers/{id}/execs/run")
    @Nullable RunResponse runInContainer(@PathVariable String id, @Valid @RequestBody RunRequest request,
            HttpServletResponse response) throws InterruptedException {
        return keepAlive.await(execs.run(new TargetRef(TargetKind.CONTAINER, id), request), response);
    }

    @Operation(summary = "Start a command in a utility VM", description = CREATE)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.EXEC_START_FAILED,
            ErrorCode.TOO_MANY_EXECS, ErrorCode.BACKEND_UNAVAILABLE})
    @ApiResponse(responseCode = "201", description = CREATED, useReturnTypeSchema = true,
            headers = @Header(name = "Location", description = "/api/v1/execs/{execId}", schema = @Schema(type = "string")))
    @PostMapping("/uvms/{id}/execs")
    ResponseEntity<ExecView> createInUvm(@PathVariable String id, @Valid @RequestBody ExecRequest request) {
        return created(execs.create(new TargetRef(TargetKind.UVM, id), request));
    }

    @Operation(summary = "Run a command in a utility VM to completion", description = RUN)
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.TARGET_NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.EXEC_START_FAILED,
            ErrorCode.TOO_MANY_EXECS, ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping("/uvms/{id}/execs/run")
    @Nullable RunResponse runInUvm(@PathVariable String id, @Valid @RequestBody RunRequest request,
            HttpServletResponse response) throws InterruptedException {
        return keepAlive.await(execs.run(new TargetRef(TargetKind.UVM, id), request), response);
    }

    private static ResponseEntity<ExecView> created(Exec exec) {
        ExecView view = ExecView.of(exec);
        return ResponseEntity.status(HttpStatus.CREATED).location(URI.create(view.links().self())).body(view);
    }
}
