package io.execgate.stream;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.execgate.host.ExitStatus;
import tools.jackson.databind.json.JsonMapper;

/**
 * Kubernetes' remote-command channel protocol: binary messages whose first byte is the channel. 0 stdin,
 * 1 stdout, 2 stderr, 3 status (one {@code metav1.Status} when the command ends), 4 resize
 * ({@code {"Width":..,"Height":..}}), and in v5 255 close ({@code [255, 0]} closes stdin).
 */
final class ChannelProtocol {

    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";
    static final List<String> SUPPORTED = List.of(V5, V4);

    static final int STDIN = 0;
    static final int STATUS = 3;
    static final int RESIZE = 4;
    static final int CLOSE = 255;

    private ChannelProtocol() {
    }

    /**
     * The protocols a client offers, in its order, from every {@code Sec-WebSocket-Protocol} line it sent: each
     * line may list several, separated by commas (RFC 6455 4.1 and RFC 9110 5.3).
     */
    static List<String> offered(List<String> headerLines) {
        return headerLines.stream().flatMap(line -> Arrays.stream(line.split(","))).map(String::strip)
                .filter(token -> !token.isEmpty()).toList();
    }

    /** The first protocol the client offers that execgate speaks: the client's preference wins, as in Kubernetes. */
    static Optional<String> select(List<String> offered) {
        return offered.stream().map(String::strip).filter(SUPPORTED::contains).findFirst();
    }

    /** The status document for channel 3, in the shape Kubernetes clients decode. */
    static byte[] status(ExitStatus exit, JsonMapper json) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("metadata", Map.of());
        Integer code = exit.exitCode();
        if (code != null && code == 0) {
            status.put("status", "Success");
        } else if (code != null) {
            status.put("status", "Failure");
            status.put("message", "command terminated with non-zero exit code: " + code
                    + (exit.signal() != null ? " (" + exit.signal() + ")" : ""));
            status.put("reason", "NonZeroExitCode");
            status.put("details", Map.of("causes", List.of(Map.of("reason", "ExitCode", "message", String.valueOf(code)))));
        } else {
            status.put("status", "Failure");
            status.put("message", exit.error() != null ? exit.error() : "the command's exit code is unknown");
            status.put("reason", "InternalError");
            status.put("code", 500); // as an API server's InternalError status carries it
        }
        return statusMessage(status, json);
    }

    /**
     * The status for a client the service leaves before its exec ends: Kubernetes' {@code ServiceUnavailable}
     * (503), as an API server that goes away answers.
     */
    static byte[] goingAway(String message, JsonMapper json) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("metadata", Map.of());
        status.put("status", "Failure");
        status.put("message", message);
        status.put("reason", "ServiceUnavailable");
        status.put("code", 503);
        return statusMessage(status, json);
    }

    private static byte[] statusMessage(Map<String, Object> status, JsonMapper json) {
        byte[] body = json.writeValueAsBytes(status);
        byte[] message = new byte[1 + body.length];
        message[0] = STATUS;
        System.arraycopy(body, 0, message, 1, body.length);
        return message;
    }
}
