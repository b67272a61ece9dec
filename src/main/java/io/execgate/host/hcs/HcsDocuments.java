package io.execgate.host.hcs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.execgate.host.ConsoleSize;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The HCS schema v2 JSON documents execgate writes and reads: member names in PascalCase, unset members left out.
 */
final class HcsDocuments {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HcsDocuments() {
    }

    /** How a compute system takes a process. */
    enum Flavor {
        /** A Windows container or VM: a command line, escaped by Windows' rules. */
        WINDOWS,
        /** A Linux utility VM's own guest agent (GCS): {@code CommandArgs}. */
        LINUX_GUEST,
        /** A Linux container (LCOW): an OCI process spec in {@code OciProcess}; the pipes stay outside it. */
        LINUX_CONTAINER
    }

    /** {@code ProcessParameters} for {@code HcsCreateProcess}. */
    static String processParameters(List<String> args, Flavor flavor, @Nullable String workingDir, Map<String, String> env,
            @Nullable String user, boolean tty, @Nullable ConsoleSize size, boolean stdin, boolean stdout, boolean stderr) {
        ObjectNode p = JSON.createObjectNode();
        if (flavor == Flavor.LINUX_CONTAINER) {
            ObjectNode oci = p.putObject("OciProcess");
            ArrayNode ociArgs = oci.putArray("args");
            args.forEach(ociArgs::add);
            ArrayNode ociEnv = oci.putArray("env");
            env.forEach((k, v) -> ociEnv.add(k + "=" + v));
            oci.put("cwd", workingDir != null ? workingDir : "/");
            oci.put("terminal", tty);
            if (tty && size != null) {
                oci.putObject("consoleSize").put("height", size.height()).put("width", size.width());
            }
            if (user != null) {
                oci.putObject("user").put("username", user);
            }
            pipes(p, tty, stdin, stdout, stderr);
            return JSON.writeValueAsString(p);
        }
        if (flavor == Flavor.LINUX_GUEST) {
            ArrayNode commandArgs = p.putArray("CommandArgs");
            args.forEach(commandArgs::add);
        } else {
            p.put("CommandLine", WindowsCommandLine.join(args));
        }
        if (user != null) {
            p.put("User", user);
        }
        if (workingDir != null) {
            p.put("WorkingDirectory", workingDir);
        }
        if (!env.isEmpty()) {
            ObjectNode environment = p.putObject("Environment");
            env.forEach(environment::put);
        }
        if (tty) {
            p.put("EmulateConsole", true);
            if (size != null) {
                p.putArray("ConsoleSize").add(size.height()).add(size.width());
            }
        }
        pipes(p, tty, stdin, stdout, stderr);
        return JSON.writeValueAsString(p);
    }

    private static void pipes(ObjectNode p, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        if (stdin) {
            p.put("CreateStdInPipe", true);
        }
        if (stdout || tty) {
            p.put("CreateStdOutPipe", true);
        }
        if (stderr && !tty) {
            p.put("CreateStdErrPipe", true);
        }
    }

    /** {@code ProcessModifyRequest} for a console size. */
    static String consoleSize(ConsoleSize size) {
        ObjectNode request = JSON.createObjectNode().put("Operation", "ConsoleSize");
        request.putObject("ConsoleSize").put("Height", size.height()).put("Width", size.width());
        return JSON.writeValueAsString(request);
    }

    /** {@code ProcessModifyRequest} closing the process's stdin. */
    static String closeStdin() {
        ObjectNode request = JSON.createObjectNode().put("Operation", "CloseHandle");
        request.putObject("CloseHandle").put("Handle", "StdIn");
        return JSON.writeValueAsString(request);
    }

    /** {@code SignalProcessOptions}: a Linux signal number, or a Windows console event's name. */
    static String signal(Object signal) {
        ObjectNode options = JSON.createObjectNode();
        if (signal instanceof Integer number) {
            options.put("Signal", number);
        } else {
            options.put("Signal", signal.toString());
        }
        return JSON.writeValueAsString(options);
    }

    /** A {@code ProcessStatus}, from the exit event. */
    record ProcessStatus(long processId, boolean exited, long exitCode, int lastWaitResult) {
    }

    /**
     * Reads a {@code ProcessStatus}; null when there is none or it cannot be read (hcsshim then knows no exit code).
     * Members left out are zero; an HRESULT may come signed or unsigned.
     */
    static @Nullable ProcessStatus processStatus(@Nullable String json) {
        if (json == null || json.isBlank()) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(json);
            if (!node.isObject()) {
                return null;
            }
            return new ProcessStatus(node.path("ProcessId").asLong(0), node.path("Exited").asBoolean(false),
                    node.path("ExitCode").asLong(0) & 0xFFFFFFFFL, (int) node.path("LastWaitResult").asLong(0));
        } catch (JacksonException e) {
            return null;
        }
    }

    /** A compute system as {@code HcsEnumerateComputeSystems} lists it. */
    record SystemProperties(String id, String systemType, @Nullable String owner, @Nullable String state,
            @Nullable String runtimeOsType) {
    }

    static List<SystemProperties> systems(@Nullable String json) {
        List<SystemProperties> systems = new ArrayList<>();
        if (json == null || json.isBlank()) {
            return systems;
        }
        for (JsonNode node : JSON.readTree(json)) {
            String id = node.path("Id").asString("");
            if (!id.isEmpty()) {
                systems.add(new SystemProperties(id, node.path("SystemType").asString(""), text(node, "Owner"),
                        text(node, "State"), text(node, "RuntimeOsType")));
            }
        }
        return systems;
    }

    private static @Nullable String text(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : value.asString();
    }

    /**
     * A {@code ResultError} document as one line: its message, then each error event as hcsshim prints it. Null
     * when there is no document.
     */
    static @Nullable String describeError(@Nullable String json) {
        if (json == null || json.isBlank()) {
            return null;
        }
        try {
            JsonNode error = JSON.readTree(json);
            StringBuilder text = new StringBuilder(error.path("ErrorMessage").asString(""));
            for (JsonNode event : error.path("ErrorEvents")) {
                text.append(" [Event Detail: ").append(event.path("Message").asString(""));
                if (event.hasNonNull("StackTrace")) {
                    text.append(" Stack Trace: ").append(event.path("StackTrace").asString());
                }
                if (event.hasNonNull("Provider")) {
                    text.append(" Provider: ").append(event.path("Provider").asString());
                }
                if (event.hasNonNull("EventId")) {
                    text.append(" EventID: ").append(event.path("EventId").asInt());
                }
                if (event.hasNonNull("Source")) {
                    text.append(" Source: ").append(event.path("Source").asString());
                }
                text.append(']');
            }
            return text.toString().strip();
        } catch (JacksonException e) {
            return json.strip();
        }
    }

    /** {@code KEY=VALUE} entries as HCS's {@code Environment} object, later entries winning. */
    static Map<String, String> environment(List<String> entries) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return env;
    }
}
