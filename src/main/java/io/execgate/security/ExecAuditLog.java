package io.execgate.security;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.execgate.api.AccessDenialObserver;
import io.execgate.api.UvmActionObserver;
import io.execgate.exec.Caller;
import io.execgate.exec.Exec;
import io.execgate.exec.ExecObserver;
import io.execgate.host.ExitStatus;
import io.execgate.host.TargetRef;
import io.execgate.upstream.UpstreamPlan;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import tools.jackson.databind.json.JsonMapper;

/**
 * One JSON line per exec start and end on the {@code execgate.audit} logger: who, from where, what, where, and
 * how it ended; one per control on an exec (signal, resize, close stdin, delete, attach), per exec refused by a
 * limit, per boot and power-off of a utility VM ({@code uvm.create}, {@code uvm.delete}, whether done or refused), and
 * per request turned away with 401 or 403 (by the security layer, or by the API past it). Values that
 * look secret are masked: environment values whose names contain TOKEN, SECRET, PASSWORD, KEY (and the like), and
 * arguments of the form {@code --password=...}. Output is never logged.
 */
final class ExecAuditLog implements ExecObserver, AccessDenialObserver, UvmActionObserver {

    static final String LOGGER = "execgate.audit";
    private static final Logger audit = LoggerFactory.getLogger(LOGGER);
    private static final Pattern SECRET_NAME = Pattern.compile(".*(TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH).*",
            Pattern.CASE_INSENSITIVE);
    static final String MASK = "***";
    private static final Pattern CREDENTIAL = Pattern.compile("(?i)\\b(bearer|basic|token)\\s+\\S+");
    private static final Pattern CREDENTIAL_HEADER = Pattern.compile(
            "(?i)\\b((?:proxy-)?authorization|cookie|x-api-key|x-auth-token)\\s*:\\s*.*");

    private final JsonMapper json;

    ExecAuditLog(JsonMapper json) {
        this.json = json;
    }

    @Override
    public void started(Exec exec, List<String> env, @Nullable String user, @Nullable String workingDir,
            @Nullable UpstreamPlan upstream) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "exec.start");
        line.put("execId", exec.id());
        line.put("principal", exec.caller().principal());
        line.put("remoteAddress", exec.caller().remoteAddress());
        line.put("target", exec.target().toString());
        line.put("command", maskArguments(exec.command()));
        line.put("env", env.stream().map(ExecAuditLog::maskEnv).toList());
        line.put("user", user);
        line.put("workingDir", workingDir);
        line.put("tty", exec.tty());
        line.put("stdin", exec.stdin());
        line.put("io", io(upstream));
        line.put("at", exec.createdAt().toString());
        audit.info(json.writeValueAsString(line));
    }

    @Override
    public void ended(Exec exec) {
        ExitStatus exit = exec.exit();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "exec.end");
        line.put("execId", exec.id());
        line.put("principal", exec.caller().principal());
        line.put("target", exec.target().toString());
        line.put("exitCode", exit == null ? null : exit.exitCode());
        line.put("signal", exit == null ? null : exit.signal());
        line.put("reason", exit == null ? null : exit.reason().value());
        line.put("error", exit == null ? null : exit.error());
        Instant end = exit == null ? Instant.now() : exit.at();
        line.put("durationMillis", Duration.between(exec.createdAt(), end).toMillis());
        line.put("stdoutBytes", exec.stdoutBytes());
        line.put("stderrBytes", exec.stderrBytes());
        audit.info(json.writeValueAsString(line));
    }

    @Override
    public void controlled(Exec exec, Caller caller, String action) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "exec.control");
        line.put("execId", exec.id());
        line.put("principal", caller.principal());
        line.put("remoteAddress", caller.remoteAddress());
        line.put("target", exec.target().toString());
        line.put("action", action);
        audit.info(json.writeValueAsString(line));
    }

    @Override
    public void refused(Caller caller, TargetRef target, List<String> command, String reason) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "exec.refused");
        line.put("principal", caller.principal());
        line.put("remoteAddress", caller.remoteAddress());
        line.put("target", target.toString());
        line.put("command", maskArguments(command));
        line.put("reason", reason);
        audit.info(json.writeValueAsString(line));
    }

    /**
     * A request turned away with 401 or 403: by the security layer ({@link ProblemSecurityHandlers}) or, past it,
     * by the API ({@code ProblemAdvice}); the principal is whoever the request authenticated as, if anyone.
     */
    @Override
    public void denied(HttpServletRequest request, int status) {
        Authentication who = SecurityContextHolder.getContext().getAuthentication();
        denied(who == null ? null : who.getName(), request.getRemoteAddr(), request.getMethod(), request.getRequestURI(),
                status);
    }

    @Override
    public void uvmAction(HttpServletRequest request, String action, @Nullable String uvmId, int status,
            @Nullable String detail) {
        Authentication who = SecurityContextHolder.getContext().getAuthentication();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", action);
        line.put("principal", who == null ? null : who.getName());
        line.put("remoteAddress", request.getRemoteAddr());
        line.put("uvm", uvmId);
        line.put("status", status);
        line.put("detail", detail);
        audit.info(json.writeValueAsString(line));
    }

    private void denied(@Nullable String principal, String remoteAddress, String method, String path, int status) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "access.denied");
        line.put("principal", principal);
        line.put("remoteAddress", remoteAddress);
        line.put("method", method);
        line.put("path", path);
        line.put("status", status);
        audit.info(json.writeValueAsString(line));
    }

    /**
     * Where the streams go, as the request said: FIFO paths, the streams execgate listens for, or the logging driver
     * it starts on the host with its (masked) arguments, which is a command of its own to audit.
     */
    static @Nullable Map<String, Object> io(@Nullable UpstreamPlan upstream) {
        Map<String, Object> io = new LinkedHashMap<>();
        switch (upstream) {
            case null -> {
                return null;
            }
            case UpstreamPlan.Pipes pipes -> {
                io.put("stdin", Objects.toString(pipes.stdin(), null));
                io.put("stdout", Objects.toString(pipes.stdout(), null));
                io.put("stderr", Objects.toString(pipes.stderr(), null));
            }
            case UpstreamPlan.Listen listen -> io.put("listen", Stream.of(
                    listen.stdin() ? "stdin" : null, listen.stdout() ? "stdout" : null, listen.stderr() ? "stderr" : null)
                    .filter(Objects::nonNull).toList());
            case UpstreamPlan.Binary binary -> {
                io.put("driver", binary.executable().toString());
                io.put("driverArguments", maskDriverArguments(binary));
            }
        }
        return io;
    }

    /**
     * A logging driver's arguments with their secrets masked. They come from the URI's query in pairs
     * ({@code ?token=x} is {@code token x}), so a value is masked when its key looks secret, dashes or not; then
     * as any command's arguments ({@code ?--password&hunter2} is {@code --password hunter2} too).
     */
    static List<String> maskDriverArguments(UpstreamPlan.Binary binary) {
        List<String> pairs = new java.util.ArrayList<>();
        binary.query().forEach((key, value) -> {
            pairs.add(key);
            if (!value.isEmpty()) {
                pairs.add(SECRET_NAME.matcher(key).matches() ? MASK : value);
            }
        });
        return maskArguments(pairs);
    }

    /** {@code NAME=value} with the value masked when the name looks secret. */
    static String maskEnv(String entry) {
        int eq = entry.indexOf('=');
        return eq > 0 && SECRET_NAME.matcher(entry.substring(0, eq)).matches() ? entry.substring(0, eq + 1) + MASK : entry;
    }

    /**
     * Arguments with their secrets masked: {@code --password=value} and {@code API_TOKEN=value}, the argument
     * after {@code --password}, and credentials in header-like strings ({@code Authorization: Bearer x}).
     */
    static List<String> maskArguments(List<String> arguments) {
        List<String> masked = new java.util.ArrayList<>(arguments.size());
        boolean nextIsSecret = false;
        for (String argument : arguments) {
            if (nextIsSecret) {
                masked.add(MASK);
                nextIsSecret = false;
                continue;
            }
            int eq = argument.indexOf('=');
            if (eq > 0 && SECRET_NAME.matcher(argument.substring(0, eq)).matches()) {
                masked.add(argument.substring(0, eq + 1) + MASK);
            } else if (argument.startsWith("-") && eq < 0 && SECRET_NAME.matcher(argument).matches()) {
                masked.add(argument);
                nextIsSecret = true;
            } else {
                masked.add(CREDENTIAL_HEADER.matcher(CREDENTIAL.matcher(argument).replaceAll("$1 " + MASK))
                        .replaceAll("$1: " + MASK));
            }
        }
        return masked;
    }
}
