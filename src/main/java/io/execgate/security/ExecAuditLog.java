package io.execgate.security;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.execgate.exec.Exec;
import io.execgate.exec.ExecObserver;
import io.execgate.host.ExitStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * One JSON line per exec start and end on the {@code execgate.audit} logger: who, from where, what, where, and
 * how it ended. Values that look secret are masked: environment values whose names contain TOKEN, SECRET,
 * PASSWORD, KEY (and the like), and arguments of the form {@code --password=...}. Output is never logged.
 */
final class ExecAuditLog implements ExecObserver {

    static final String LOGGER = "execgate.audit";
    private static final Logger audit = LoggerFactory.getLogger(LOGGER);
    private static final Pattern SECRET_NAME = Pattern.compile(".*(TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH).*",
            Pattern.CASE_INSENSITIVE);
    static final String MASK = "***";

    private final JsonMapper json;

    ExecAuditLog(JsonMapper json) {
        this.json = json;
    }

    @Override
    public void started(Exec exec, List<String> env, @Nullable String user, @Nullable String workingDir) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "exec.start");
        line.put("execId", exec.id());
        line.put("principal", exec.caller().principal());
        line.put("remoteAddress", exec.caller().remoteAddress());
        line.put("target", exec.target().toString());
        line.put("command", exec.command().stream().map(ExecAuditLog::maskArgument).toList());
        line.put("env", env.stream().map(ExecAuditLog::maskEnv).toList());
        line.put("user", user);
        line.put("workingDir", workingDir);
        line.put("tty", exec.tty());
        line.put("stdin", exec.stdin());
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

    /** {@code NAME=value} with the value masked when the name looks secret. */
    static String maskEnv(String entry) {
        int eq = entry.indexOf('=');
        return eq > 0 && SECRET_NAME.matcher(entry.substring(0, eq)).matches() ? entry.substring(0, eq + 1) + MASK : entry;
    }

    /** {@code --password=value}, {@code API_TOKEN=value}: the value masked. */
    static String maskArgument(String argument) {
        int eq = argument.indexOf('=');
        return eq > 0 && SECRET_NAME.matcher(argument.substring(0, eq)).matches()
                ? argument.substring(0, eq + 1) + MASK : argument;
    }
}
