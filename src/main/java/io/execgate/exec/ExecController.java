package io.execgate.exec;

import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.api.ErrorResponses;
import io.execgate.host.Signal;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** The exec resources: read them, wait for their exit, control them, remove them. */
@RestController
@RequestMapping(path = "/api/v1/execs", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Execs")
class ExecController {

    private final ExecService execs;

    ExecController(ExecService execs) {
        this.execs = execs;
    }

    @Operation(summary = "List execs, newest first")
    @ErrorResponses(ErrorCode.INVALID_REQUEST)
    @GetMapping
    List<ExecView> list(
            @Parameter(description = "Only execs in this target: a kind (host, container, uvm) or kind/id "
                    + "(container/ctr1)", example = "container/ctr1")
            @RequestParam(required = false) @Nullable String target,
            @Parameter(description = "Only execs in this state", schema = @Schema(implementation = ExecState.class))
            @RequestParam(required = false) @Nullable String state,
            @Parameter(description = "At most this many") @RequestParam(defaultValue = "100") @Min(1) @Max(1000) int limit) {
        TargetKind kind = null;
        TargetRef ref = null;
        if (target != null) {
            int slash = target.indexOf('/');
            try {
                kind = TargetKind.fromValue(slash < 0 ? target : target.substring(0, slash));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("target", "must be host, container or uvm, optionally followed by /id");
            }
            if (slash >= 0) {
                ref = new TargetRef(kind, target.substring(slash + 1));
            }
        }
        ExecState wanted = null;
        if (state != null) {
            try {
                wanted = ExecState.fromValue(state);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("state", "must be one of created, running, exited, failed, unknown");
            }
        }
        return execs.list(ref, kind, wanted, limit).stream().map(ExecView::of).toList();
    }

    @Operation(summary = "Read an exec")
    @ErrorResponses(ErrorCode.EXEC_NOT_FOUND)
    @GetMapping("/{id}")
    ExecView get(@PathVariable String id) {
        return ExecView.of(execs.get(id));
    }

    @Operation(summary = "Read an exec's exit status, waiting for it if asked",
            description = "Answers at once, or once the exec has ended when wait is given, or when wait has passed "
                    + "({\"exited\": false}).")
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_NOT_FOUND})
    @GetMapping("/{id}/exit")
    ExitView exit(@PathVariable String id,
            @Parameter(description = "How long to wait for the end, as an ISO-8601 duration of at most PT5M",
                    example = "PT30S")
            @RequestParam(required = false) @Nullable String wait) {
        Exec exec = execs.awaitEnd(id, parseWait(wait)); // a virtual thread parks here (spring.threads.virtual)
        return exec == null ? ExitView.PENDING : ExitView.of(exec.snapshot().exit());
    }

    @Operation(summary = "Send a signal to the exec's process")
    @ApiResponse(responseCode = "202", description = "The signal was delivered")
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_NOT_FOUND, ErrorCode.EXEC_NOT_RUNNING,
            ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping(path = "/{id}/signal", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.ACCEPTED)
    void signal(@PathVariable String id, @Valid @RequestBody SignalRequest request) {
        Signal signal;
        try {
            signal = Signal.parse(request.signal());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("signal", e.getMessage());
        }
        execs.signal(id, signal);
    }

    @Operation(summary = "Resize the exec's terminal")
    @ApiResponse(responseCode = "204", description = "Resized")
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_NOT_FOUND, ErrorCode.EXEC_NOT_RUNNING, ErrorCode.NOT_A_TTY,
            ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping(path = "/{id}/resize", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void resize(@PathVariable String id, @Valid @RequestBody TerminalSize size) {
        execs.resize(id, size.toConsoleSize());
    }

    @Operation(summary = "Close the exec's stdin, so the process reads end-of-file")
    @ApiResponse(responseCode = "204", description = "Closed (or there was no stdin to close)")
    @ErrorResponses({ErrorCode.EXEC_NOT_FOUND, ErrorCode.EXEC_NOT_RUNNING, ErrorCode.BACKEND_UNAVAILABLE})
    @PostMapping("/{id}/close-stdin")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void closeStdin(@PathVariable String id) {
        execs.closeStdin(id);
    }

    @Operation(summary = "Read the retained output of one stream",
            description = "What the exec retained of the stream: the newest execgate.exec.output-buffer-size bytes "
                    + "for an exec started with POST .../execs, the first maxOutputBytes for a run-to-completion exec. "
                    + "The exec resource counts what was not retained. Works while the exec runs.")
    @ApiResponse(responseCode = "200", description = "The raw bytes",
            content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
                    schema = @Schema(type = "string", format = "binary")))
    @ErrorResponses({ErrorCode.INVALID_REQUEST, ErrorCode.EXEC_NOT_FOUND})
    @GetMapping(path = "/{id}/output", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    void output(@PathVariable String id,
            @Parameter(description = "stdout or stderr", schema = @Schema(allowableValues = {"stdout", "stderr"}))
            @RequestParam(defaultValue = "stdout") String stream, HttpServletResponse response) throws IOException {
        // Written from the buffer's own array (a view of it), not a copy: many readers of a large output cost
        // the heap nothing more.
        OutputBuffer.Retained retained = execs.output(id, stream);
        response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
        response.setContentLengthLong(retained.length());
        retained.writeTo(response.getOutputStream());
    }

    @Operation(summary = "Remove an exec", description = "Terminates it first when it runs (SIGTERM, then SIGKILL "
            + "after execgate.exec.kill-grace-period).")
    @ApiResponse(responseCode = "204", description = "Removed")
    @ErrorResponses(ErrorCode.EXEC_NOT_FOUND)
    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable String id) {
        execs.delete(id);
    }

    private static Duration parseWait(@Nullable String wait) {
        if (wait == null || wait.isBlank()) {
            return Duration.ZERO;
        }
        Duration duration;
        try {
            duration = Duration.parse(wait);
        } catch (DateTimeParseException e) {
            throw ApiException.invalid("wait", "must be an ISO-8601 duration such as PT30S");
        }
        if (duration.isNegative() || duration.compareTo(ExecService.MAX_EXIT_WAIT) > 0) {
            throw ApiException.invalid("wait", "must be between PT0S and " + ExecService.MAX_EXIT_WAIT);
        }
        return duration;
    }
}
