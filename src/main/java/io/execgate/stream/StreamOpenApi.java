package io.execgate.stream;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.BooleanSchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.stereotype.Component;

/**
 * Puts the WebSocket endpoints into the OpenAPI document (springdoc sees only controllers): each is a GET that
 * upgrades with 101 and the channel protocol, or answers a problem document.
 */
@Component
class StreamOpenApi implements OpenApiCustomizer {

    private static final String PROTOCOL = """
            Upgrades to a WebSocket speaking Kubernetes' channel protocol: offer `v5.channel.k8s.io` (or \
            `v4.channel.k8s.io`) in Sec-WebSocket-Protocol. Every message is binary, its first byte the channel: \
            0 stdin, 1 stdout, 2 stderr, 3 status (one metav1.Status after the last output, with an ExitCode \
            cause when the exit code is not 0), 4 resize ({"Width":120,"Height":40}), and in v5 255 close \
            ([255,0] closes stdin). The session closes with 1000 after the status; text messages close it with \
            1003, messages over execgate.stream.max-message-size with 1009; empty messages and messages on other \
            channels are skipped, as an API server skips them.""";

    @Override
    public void customise(OpenAPI openApi) {
        openApi.path("/api/v1/execs/{id}/attach", new PathItem().get(attach()));
        openApi.path("/api/v1/host/exec", new PathItem().get(oneStep("execOnHost", "the service's host", false)));
        openApi.path("/api/v1/containers/{id}/exec", new PathItem().get(oneStep("execInContainer", "a container", true)));
        openApi.path("/api/v1/uvms/{id}/exec", new PathItem().get(oneStep("execInUvm", "a utility VM", true)));
    }

    private static Operation attach() {
        return new Operation().operationId("attach").addTagsItem("Streams")
                .summary("Attach to an exec over WebSocket")
                .description(PROTOCOL + "\n\nThe retained output comes first, then new output. Several clients may "
                        + "attach at once; stdin from any of them reaches the process.")
                .parameters(List.of(path("id", "The exec's id"),
                        flag("stdin", "Forward this client's stdin (when the exec has one)", true),
                        flag("stdout", "Receive stdout", true),
                        flag("stderr", "Receive stderr", true)))
                .responses(responses(Map.of("400", "INVALID_REQUEST: no supported subprotocol offered",
                        "401", "UNAUTHORIZED", "403", "FORBIDDEN: roles (operator; admin for host execs), or a "
                                + "cross-site Origin", "404", "EXEC_NOT_FOUND", "429", "TOO_MANY_SESSIONS")));
    }

    private static Operation oneStep(String operationId, String where, boolean withId) {
        List<Parameter> parameters = new java.util.ArrayList<>();
        if (withId) {
            parameters.add(path("id", "The target's id"));
        }
        parameters.add(new Parameter().in("query").name("command").required(true)
                .description("One argv entry per parameter: ?command=sh&command=-c&command=echo%20hi")
                .schema(new io.swagger.v3.oas.models.media.ArraySchema().items(new StringSchema())));
        parameters.add(flag("stdin", "Give the process a stdin fed by this client", false));
        parameters.add(flag("stdout", "Receive stdout", true));
        parameters.add(flag("stderr", "Receive stderr (not with tty)", true));
        parameters.add(flag("tty", "Run on a terminal; stderr is merged into stdout", false));
        parameters.add(number("width", "The terminal's first width (with height)"));
        parameters.add(number("height", "The terminal's first height (with width)"));
        return new Operation().operationId(operationId).addTagsItem("Streams")
                .summary("Run a command in " + where + " and attach to it over WebSocket")
                .description(PROTOCOL + "\n\nThe exec lives as long as its attachments: when the last one goes, "
                        + "it is terminated (SIGHUP first on a terminal, then SIGTERM, SIGKILL after the grace period).")
                .parameters(parameters)
                .responses(responses(Map.of("400", "INVALID_REQUEST", "401", "UNAUTHORIZED",
                        "403", "FORBIDDEN: roles (operator; admin on the host), or a cross-site Origin",
                        "404", "TARGET_NOT_FOUND", "422", "EXEC_START_FAILED", "429", "TOO_MANY_EXECS, TOO_MANY_SESSIONS",
                        "409", "CONFLICT: an id several containers answer to, or a target that has stopped",
                        "503", "BACKEND_UNAVAILABLE")));
    }

    private static ApiResponses responses(Map<String, String> problems) {
        ApiResponses responses = new ApiResponses().addApiResponse("101",
                new ApiResponse().description("Switching Protocols: the channel protocol follows"));
        problems.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> responses.addApiResponse(e.getKey(),
                new ApiResponse().description(e.getValue()).content(new Content().addMediaType("application/problem+json",
                        new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))))));
        return responses;
    }

    private static Parameter path(String name, String description) {
        return new Parameter().in("path").name(name).required(true).description(description).schema(new StringSchema());
    }

    private static Parameter flag(String name, String description, boolean fallback) {
        return new Parameter().in("query").name(name).description(description)
                .schema(new BooleanSchema()._default(fallback));
    }

    private static Parameter number(String name, String description) {
        return new Parameter().in("query").name(name).description(description)
                .schema(new IntegerSchema().minimum(java.math.BigDecimal.ONE).maximum(java.math.BigDecimal.valueOf(65535)));
    }
}
