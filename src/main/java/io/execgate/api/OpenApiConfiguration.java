package io.execgate.api;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.swagger.v3.core.converter.AnnotatedType;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.annotation.RequestBody;

/**
 * The OpenAPI document springdoc serves at {@code /v3/api-docs} and commits as {@code openapi.yaml}: a fixed
 * server URL (so the document does not depend on the port), the problem schema, and one documented
 * {@code application/problem+json} response per status an operation's {@link ErrorResponses} names.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    static final String PROBLEM_JSON = "application/problem+json";
    static final String BEARER = "bearer";
    /** Every API operation needs a token, and roles that allow it. */
    private static final List<ErrorCode> ALWAYS = List.of(ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN);
    /**
     * Every operation that takes a body: {@link RequestBodyLimit} answers 413 beyond execgate.security.max-request-body,
     * and MVC 415 for a body that is not JSON, before the handler runs, whatever the handler declares.
     */
    private static final List<ErrorCode> WITH_A_BODY = List.of(ErrorCode.REQUEST_TOO_LARGE,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE);

    @Bean
    OpenAPI execgateOpenApi() {
        return new OpenAPI()
                .info(new Info().title("execgate").version("v1")
                        .description("Run commands in containers, utility VMs and on the host over HTTP: create an "
                                + "exec, follow it to its exit code, read its output. Errors are RFC 9457 problem "
                                + "documents with a stable code.")
                        .license(new License().name("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0")))
                .servers(List.of(new Server().url("/").description("this service")))
                .components(new Components().addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP)
                        .scheme("bearer").description("A token from execgate.security (or the generated admin token), "
                                + "or a JWT from the configured issuer. On a WebSocket handshake a browser may send it "
                                + "as the subprotocol base64url.bearer.authorization.k8s.io.<base64url token>.")))
                .addSecurityItem(new SecurityRequirement().addList(BEARER));
    }

    @Bean
    @SuppressWarnings("rawtypes") // swagger-core's own signature
    OpenApiCustomizer problemSchemas() {
        return openApi -> {
            Components components = openApi.getComponents() == null ? new Components() : openApi.getComponents();
            Map<String, Schema> schemas = ModelConverters.getInstance()
                    .readAll(new AnnotatedType(ProblemSchema.class));
            schemas.forEach(components::addSchemas);
            openApi.components(components);
        };
    }

    @Bean
    OperationCustomizer errorResponses() {
        return (operation, handler) -> {
            ErrorResponses declared = handler.getMethodAnnotation(ErrorResponses.class);
            boolean withABody = operation.getRequestBody() != null || Arrays.stream(handler.getMethodParameters())
                    .anyMatch(parameter -> parameter.hasParameterAnnotation(RequestBody.class));
            Map<Integer, List<ErrorCode>> byStatus = new TreeMap<>();
            List<ErrorCode> answered = new java.util.ArrayList<>(ALWAYS);
            if (withABody) {
                answered.addAll(WITH_A_BODY);
            }
            if (declared != null) {
                answered.addAll(Arrays.asList(declared.value()));
            }
            answered.stream().distinct().forEach(code -> byStatus
                    .computeIfAbsent(code.status().value(), s -> new java.util.ArrayList<>()).add(code));
            ApiResponses responses = operation.getResponses() == null ? new ApiResponses() : operation.getResponses();
            byStatus.forEach((status, codes) -> responses.addApiResponse(String.valueOf(status), problemResponse(codes)));
            return operation.responses(responses);
        };
    }

    private static ApiResponse problemResponse(List<ErrorCode> codes) {
        MediaType media = new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"));
        Map<String, Example> examples = new LinkedHashMap<>();
        for (ErrorCode code : codes) {
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("type", code.type());
            value.put("title", code.title());
            value.put("status", code.status().value());
            value.put("detail", exampleDetail(code));
            value.put("code", code.name());
            examples.put(code.name(), new Example().summary(code.title()).value(value));
        }
        media.setExamples(examples);
        String description = String.join(", ", codes.stream().map(ErrorCode::name).toList());
        return new ApiResponse().description(description).content(new Content().addMediaType(PROBLEM_JSON, media));
    }

    private static String exampleDetail(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST -> "command: must not be empty";
            case TARGET_NOT_FOUND -> "no container has the id ctr1";
            case EXEC_NOT_FOUND -> "no exec has the id e_7Hq2kP0aXc9LmN3b";
            case EXEC_NOT_RUNNING -> "exec e_7Hq2kP0aXc9LmN3b is exited, not running";
            case NOT_A_TTY -> "exec e_7Hq2kP0aXc9LmN3b has no terminal to resize (tty: false)";
            case EXEC_START_FAILED -> "exec: \"nope\": executable file not found in $PATH";
            case TOO_MANY_EXECS -> "64 execs are running, the most allowed (execgate.exec.max-running)";
            case BACKEND_UNAVAILABLE -> "execgate is shutting down";
            case UNAUTHORIZED -> "a bearer token is needed (Authorization: Bearer <token>)";
            case FORBIDDEN -> "your roles do not allow POST /api/v1/host/execs";
            case REQUEST_TOO_LARGE -> "the request body is larger than 4194304 bytes (execgate.security.max-request-body)";
            case UNSUPPORTED_MEDIA_TYPE -> "Content-Type 'text/plain;charset=UTF-8' is not supported.";
            default -> code.title();
        };
    }
}
