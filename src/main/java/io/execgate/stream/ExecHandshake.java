package io.execgate.stream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.api.Problems;
import io.execgate.exec.Caller;
import io.execgate.exec.Exec;
import io.execgate.exec.ExecRequest;
import io.execgate.exec.ExecService;
import io.execgate.exec.TerminalSize;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import tools.jackson.databind.json.JsonMapper;

/**
 * Decides a handshake before the upgrade, so that every refusal is an HTTP problem document with the API's
 * codes: a handshake Spring would refuse after the interceptors (400), a subprotocol execgate does not speak (400),
 * no room for a session (429), an unknown exec or target (404), a bad one-step request (400), a command that cannot
 * start (422, with the failed exec's id). The session's slot is reserved here, before a one-step exec starts, so
 * that nothing runs for a session that has no room; a handshake that fails after that gives the slot back and
 * abandons the exec.
 */
final class ExecHandshake implements HandshakeInterceptor {

    static final String SESSION = "execgate.session";
    private static final Pattern ATTACH = Pattern.compile("/api/v1/execs/([^/]+)/attach");
    private static final Pattern ONE_STEP = Pattern.compile("/api/v1/(host|containers/([^/]+)|uvms/([^/]+))/exec");

    private final ExecService execs;
    private final StreamSessions sessions;
    private final JsonMapper json;

    ExecHandshake(ExecService execs, StreamSessions sessions, JsonMapper json) {
        this.execs = execs;
        this.sessions = sessions;
        this.json = json;
    }

    /** What the handshake decided, for the handler once the session is open. */
    record Plan(Exec exec, String protocol, boolean stdin, boolean stdout, boolean stderr, boolean oneStep,
            Caller caller, StreamSessions.Reservation reservation) {
    }

    /** A one-step request, read and checked, before its exec starts. */
    private record OneStep(TargetRef target, ExecRequest exec, boolean stdin, boolean stdout, boolean stderr) {
    }

    @Override
    public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
            Map<String, Object> attributes) {
        HttpServletRequest servlet = ((ServletServerHttpRequest) request).getServletRequest();
        StreamSessions.Reservation reservation = null;
        try {
            checkUpgrade(servlet.getMethod(), request.getHeaders());
            String protocol = ChannelProtocol.select(offeredProtocols(request)).orElseThrow(() -> ApiException.invalid(
                    "Sec-WebSocket-Protocol", "offer " + String.join(" or ", ChannelProtocol.SUPPORTED)));
            Caller caller = execs.currentCaller();
            Matcher attach = ATTACH.matcher(servlet.getRequestURI());
            Plan plan;
            if (attach.matches()) {
                reservation = sessions.reserve(caller.principal());
                Exec exec = execs.get(attach.group(1));
                plan = new Plan(exec, protocol, flag(servlet, "stdin", true) && exec.stdin(), flag(servlet, "stdout", true),
                        flag(servlet, "stderr", true), false, caller, reservation);
            } else {
                OneStep oneStep = oneStep(servlet);
                try {
                    reservation = sessions.reserve(caller.principal());
                } catch (ApiException full) {
                    execs.refusedSession(oneStep.target(), oneStep.exec().command(), full.getMessage());
                    throw full;
                }
                // Only now, with a session sure to have room, may the command run.
                Exec exec = execs.createForAttachment(oneStep.target(), oneStep.exec(), oneStep.stdout(), oneStep.stderr());
                plan = new Plan(exec, protocol, oneStep.stdin(), oneStep.stdout(), oneStep.stderr(), true, caller,
                        reservation);
            }
            attributes.put(SESSION, plan);
            servlet.setAttribute(SESSION, plan); // for afterHandshake, which sees the request, not these attributes
            return true;
        } catch (ApiException e) {
            refuse(response, e, servlet.getRequestURI());
            return false;
        } finally {
            if (reservation != null && !attributes.containsKey(SESSION)) {
                sessions.release(reservation); // refused, or failed: no session will take the slot
            }
        }
    }

    /**
     * Everything Spring's handshake handler would refuse after the interceptors, checked before them: a one-step
     * exec must not start for a handshake that is then refused, and the refusal must be a problem document.
     */
    private static void checkUpgrade(String method, HttpHeaders headers) {
        if (!"GET".equals(method)) {
            throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, "a WebSocket handshake is a GET")
                    .withHeader("Allow", "GET"); // RFC 9110 15.5.6: a 405 names the methods that are
        }
        if (!"websocket".equalsIgnoreCase(headers.getUpgrade()) || headers.getFirst("Sec-WebSocket-Key") == null) {
            throw ApiException.invalid("Upgrade", "this is a WebSocket endpoint: send an Upgrade: websocket handshake");
        }
        // As Spring's handler will check it: the token spelt "Upgrade" or "upgrade" only (RFC 9110 would allow any
        // case, but a handshake Spring refuses after a one-step exec started would have run its command)
        if (headers.getConnection().stream().noneMatch(token -> token.equals("Upgrade") || token.equals("upgrade"))) {
            throw ApiException.invalid("Connection", "a WebSocket handshake carries Connection: Upgrade (spelt Upgrade "
                    + "or upgrade)");
        }
        // As Tomcat will check it after the interceptors: 16 bytes in base64 (RFC 6455 4.1)
        if (!isKey(headers.getFirst("Sec-WebSocket-Key"))) {
            throw ApiException.invalid("Sec-WebSocket-Key", "must be 16 random bytes in base64 (RFC 6455)");
        }
        if (!"13".equals(headers.getFirst("Sec-WebSocket-Version"))) {
            // RFC 6455 4.4: the versions the server speaks go back in this header.
            throw ApiException.invalid("Sec-WebSocket-Version", "only WebSocket version 13 is spoken")
                    .withHeader("Sec-WebSocket-Version", "13");
        }
    }

    /** As Tomcat's {@code UpgradeUtil.validateKey}: 24 characters, padding included, that decode to 16 bytes. */
    private static boolean isKey(@Nullable String key) {
        try {
            return key != null && key.length() == 24 && java.util.Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
    }

    @Override
    public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
            @Nullable Exception failure) {
        HttpServletResponse servlet = ((ServletServerHttpResponse) response).getServletResponse();
        if (!(((ServletServerHttpRequest) request).getServletRequest().getAttribute(SESSION) instanceof Plan plan)) {
            return;
        }
        if (failure != null || servlet.getStatus() != HttpStatus.SWITCHING_PROTOCOLS.value()) {
            // No session will come: its slot goes back, and a one-step exec started for it ends.
            sessions.release(plan.reservation());
            if (plan.oneStep()) {
                execs.abandon(plan.exec());
            }
        } else {
            sessions.upgraded(plan.reservation());
        }
    }

    private OneStep oneStep(HttpServletRequest request) {
        Matcher path = ONE_STEP.matcher(request.getRequestURI());
        if (!path.matches()) {
            throw new ApiException(ErrorCode.NOT_FOUND, "no stream at " + request.getRequestURI());
        }
        TargetRef target = path.group(2) != null ? new TargetRef(TargetKind.CONTAINER, path.group(2))
                : path.group(3) != null ? new TargetRef(TargetKind.UVM, path.group(3))
                : execs.hostTarget();
        String[] command = request.getParameterValues("command");
        boolean stdin = flag(request, "stdin", false);
        boolean stdout = flag(request, "stdout", true);
        boolean stderr = flag(request, "stderr", true);
        boolean tty = flag(request, "tty", false);
        if (!stdin && !stdout && !stderr) {
            throw ApiException.invalid("stdin", "at least one of stdin, stdout and stderr must be true");
        }
        if (tty && stderr && request.getParameter("stderr") != null) {
            throw ApiException.invalid("stderr", "tty and stderr cannot both be true: a terminal merges stderr into stdout");
        }
        Integer width = number(request, "width");
        Integer height = number(request, "height");
        if ((width == null) != (height == null)) {
            throw ApiException.invalid(width == null ? "width" : "height", "give width and height together");
        }
        ExecRequest exec = new ExecRequest(command == null ? List.of() : new ArrayList<>(Arrays.asList(command)), null,
                null, null, tty, stdin, width == null ? null : new TerminalSize(width, height), null, null);
        return new OneStep(target, exec, stdin, stdout, stderr && !tty);
    }

    private static List<String> offeredProtocols(ServerHttpRequest request) {
        return ChannelProtocol.offered(request.getHeaders().getOrEmpty("Sec-WebSocket-Protocol"));
    }

    private static boolean flag(HttpServletRequest request, String name, boolean otherwise) {
        String value = request.getParameter(name);
        if (value == null || value.isEmpty()) {
            return otherwise;
        }
        return switch (value) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw ApiException.invalid(name, "must be true or false");
        };
    }

    private static @Nullable Integer number(HttpServletRequest request, String name) {
        String value = request.getParameter(name);
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return Integer.valueOf(value);
        } catch (NumberFormatException e) {
            throw ApiException.invalid(name, "must be a number");
        }
    }

    private void refuse(ServerHttpResponse response, ApiException error, String path) {
        try {
            Problems.write(((ServletServerHttpResponse) response).getServletResponse(), error, path, json);
        } catch (java.io.IOException ignored) {
            // the client went away before hearing why
        }
    }
}
