package io.execgate.host.oci;

import java.util.ArrayList;
import java.util.List;

import io.execgate.host.ConsoleSize;
import io.execgate.host.Environment;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The OCI process spec of an exec, as containerd builds it for {@code ctr task exec} and CRI: the container's own
 * {@code process} (capabilities, rlimits, {@code noNewPrivileges}, AppArmor and SELinux labels, ...) with the
 * exec's argv, environment, working directory, user and terminal put in. The runtimes take the file as it is:
 * a field left out means its zero value, not the container's.
 */
final class ExecProcessSpec {

    /** What Docker and containerd give a process whose environment has no PATH. */
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ExecProcessSpec() {
    }

    /**
     * @param containerProcess the {@code process} object of the container's {@code config.json}, or a missing node
     * @param identity         the resolved user, or null to keep the container's
     */
    static byte[] build(JsonNode containerProcess, ProcessSpec spec, ContainerUsers.Identity identity,
            ConsoleSize consoleSize) throws StartFailure {
        ObjectNode process = containerProcess.isObject() ? ((ObjectNode) containerProcess).deepCopy() : JSON.createObjectNode();
        process.remove(List.of("commandLine", "consoleSize"));

        ArrayNode args = process.putArray("args");
        spec.args().forEach(args::add);

        List<String> env = Environment.merge(strings(process.path("env")), spec.env());
        if (Environment.get(env, "PATH").isEmpty()) {
            env = Environment.merge(List.of(DEFAULT_PATH), env);
        }
        if (spec.tty() && Environment.get(env, "TERM").isEmpty()) {
            env = Environment.merge(env, List.of("TERM=xterm")); // as Docker does for a terminal
        }
        ArrayNode envNode = process.putArray("env");
        env.forEach(envNode::add);

        String cwd = spec.workingDir() != null ? spec.workingDir() : process.path("cwd").asString("/");
        if (cwd.isEmpty()) {
            cwd = "/";
        }
        if (!cwd.startsWith("/")) {
            throw new StartFailure(Kind.BAD_WORKING_DIR, "working directory must be an absolute path: " + cwd);
        }
        process.put("cwd", cwd);

        ObjectNode user = process.putObject("user");
        user.put("uid", identity.uid());
        user.put("gid", identity.gid());
        if (!identity.additionalGids().isEmpty()) {
            ArrayNode gids = user.putArray("additionalGids");
            identity.additionalGids().forEach(gids::add);
        }

        process.put("terminal", spec.tty());
        if (spec.tty()) {
            // Applied before the process starts (runc's own copy of the terminal size comes after), so the
            // process's first look at its terminal is right.
            ObjectNode size = process.putObject("consoleSize");
            size.put("height", consoleSize.height());
            size.put("width", consoleSize.width());
        }
        // Kept as the container has it; written out because leaving it out means "off" to the runtime.
        process.put("noNewPrivileges", process.path("noNewPrivileges").asBoolean(false));
        return JSON.writeValueAsBytes(process);
    }

    /** The container's own user, for execs that name none. */
    static ContainerUsers.Identity containerUser(JsonNode containerProcess) {
        JsonNode user = containerProcess.path("user");
        List<Long> additional = new ArrayList<>();
        user.path("additionalGids").forEach(g -> additional.add(g.asLong()));
        return new ContainerUsers.Identity(user.path("uid").asLong(0), user.path("gid").asLong(0), additional);
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> {
            if (v.isString()) {
                values.add(v.asString());
            }
        });
        return values;
    }
}
