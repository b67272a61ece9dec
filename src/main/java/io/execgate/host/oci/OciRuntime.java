package io.execgate.host.oci;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.execgate.host.local.LocalProcesses;
import io.execgate.host.oci.RuntimeCommand.CommandException;
import io.execgate.host.oci.RuntimeCommand.Result;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The OCI runtime's command line: which binary, which version, and the commands the backend runs. runc and crun
 * share the commands but not every detail; the differences that matter are named here.
 */
final class OciRuntime {

    /** runc's rule for container ids; crun accepts the same. Anything else cannot name a container. */
    private static final Pattern ID = Pattern.compile("[\\w+\\-.]{1,1024}");
    private static final Pattern VERSION = Pattern.compile("version\\s+((\\d+)\\.(\\d+)\\.(\\d+)\\S*)");
    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final String name;
    private final Path binary;
    private final String version;
    private final boolean forwardsResize;
    private final Duration timeout;

    private OciRuntime(String name, Path binary, String version, boolean forwardsResize, Duration timeout) {
        this.name = name;
        this.binary = binary;
        this.version = version;
        this.forwardsResize = forwardsResize;
        this.timeout = timeout;
    }

    /** Finds the runtime and asks its version; throws with the reason when it cannot be used. */
    static OciRuntime find(String runtime, Duration timeout) throws CommandException {
        Path binary = locate(runtime);
        Result result = RuntimeCommand.run(List.of(binary.toString(), "--version"), timeout);
        if (!result.succeeded()) {
            throw new CommandException(binary + " --version failed: " + result.complaint());
        }
        String firstLine = result.stdoutText().lines().findFirst().orElse("").strip();
        String name = binary.getFileName().toString();
        Matcher m = VERSION.matcher(firstLine);
        boolean parsed = m.find();
        String version = parsed ? m.group(1) : firstLine;
        // runc copies its terminal's size to the container's on SIGWINCH; crun learnt it in 1.8.7 (commit 907d0322).
        boolean forwards = !name.startsWith("crun") || (parsed && atLeast(m, 1, 8, 7));
        return new OciRuntime(name, binary, version, forwards, timeout);
    }

    private static boolean atLeast(Matcher m, int major, int minor, int patch) {
        int[] have = {Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4))};
        int[] want = {major, minor, patch};
        for (int i = 0; i < 3; i++) {
            if (have[i] != want[i]) {
                return have[i] > want[i];
            }
        }
        return true;
    }

    private static Path locate(String runtime) throws CommandException {
        return LocalProcesses.locate(runtime).orElseThrow(() -> new CommandException(runtime.contains("/")
                ? runtime + " is not an executable file with an absolute path" : runtime + " was not found in PATH"));
    }

    String name() {
        return name;
    }

    /** The state format the runtime keeps: {@code crun} or {@code runc} (runc's, also youki's). */
    String family() {
        return family(name);
    }

    static String family(String binaryName) {
        return binaryName.startsWith("crun") ? "crun" : "runc";
    }

    /**
     * The format of a container's state directory: runc keeps {@code state.json}, crun {@code status}; null for
     * neither. The runtimes cannot read each other's.
     */
    static @Nullable String familyOf(Path containerDir) {
        if (Files.isRegularFile(containerDir.resolve("state.json"))) {
            return "runc";
        }
        if (Files.isRegularFile(containerDir.resolve("status"))) {
            return "crun";
        }
        return null;
    }

    Path binary() {
        return binary;
    }

    String version() {
        return version;
    }

    /** Whether a resize of the runtime's terminal reaches the container's; crun before 1.8.7 sets it once. */
    boolean forwardsResize() {
        return forwardsResize;
    }

    static boolean validId(String id) {
        return ID.matcher(id).matches() && !id.equals(".") && !id.equals("..");
    }

    /**
     * Every container under {@code root}. A root that does not exist has none (and is not asked: {@code list}
     * would create it).
     */
    List<OciContainer> list(Path root) throws CommandException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        Result result = RuntimeCommand.run(List.of(binary.toString(), "--root=" + root, "list", "--format=json"), timeout);
        if (!result.succeeded()) {
            throw new CommandException(name + " list in " + root + " failed: " + result.complaint());
        }
        List<StateJson> entries;
        try {
            StateJson[] parsed = JSON.readValue(result.stdout(), StateJson[].class); // runc prints null for none
            entries = parsed == null ? List.of() : List.of(parsed);
        } catch (JacksonException e) {
            throw new CommandException(name + " list in " + root + " printed what is not JSON: " + e.getOriginalMessage());
        }
        List<OciContainer> containers = new ArrayList<>();
        for (StateJson entry : entries) {
            if (entry == null || entry.id() == null || !validId(entry.id())
                    || !family().equals(familyOf(root.resolve(entry.id())))) {
                continue; // another runtime's container: that runtime lists it
            }
            if (entry.annotations() == null && family().equals("crun")) {
                // crun's list leaves annotations out; its state has them. A container that fails its state (being
                // deleted) is listed as the list saw it rather than hiding the others.
                try {
                    containers.add(state(root, entry.id()).orElseGet(() -> entry.toContainer(root)));
                } catch (CommandException e) {
                    containers.add(entry.toContainer(root));
                }
            } else {
                containers.add(entry.toContainer(root));
            }
        }
        return containers;
    }

    /** One container under {@code root}, or empty when the root has no such container. */
    Optional<OciContainer> state(Path root, String id) throws CommandException {
        if (!validId(id) || !Files.isDirectory(root.resolve(id))) {
            return Optional.empty();
        }
        Result result = RuntimeCommand.run(List.of(binary.toString(), "--root=" + root, "state", id), timeout);
        if (!result.succeeded()) {
            if (!Files.isDirectory(root.resolve(id))) {
                return Optional.empty(); // deleted meanwhile
            }
            throw new CommandException(name + " state " + id + " failed: " + result.complaint());
        }
        try {
            StateJson state = JSON.readValue(result.stdout(), StateJson.class);
            return Optional.of(state.toContainer(root));
        } catch (JacksonException e) {
            throw new CommandException(name + " state " + id + " printed what is not JSON: " + e.getOriginalMessage());
        }
    }

    /**
     * The command that runs a process in a container: the process spec in a file, the process's host pid written
     * to another, the runtime's own errors as JSON lines in a third (so they are told apart from the process's).
     */
    List<String> execCommand(Path root, String id, ExecFiles files) {
        return List.of(binary.toString(), "--root=" + root, "--log=" + files.log(), "--log-format=json", "exec",
                "--process=" + files.process(), "--pid-file=" + files.pid(), id);
    }

    /** The fields of {@code list} and {@code state} the backend uses; each runtime adds its own. */
    record StateJson(@Nullable String id, long pid, @Nullable String status, @Nullable String bundle,
            @Nullable String created, @Nullable Map<String, String> annotations) {

        OciContainer toContainer(Path root) {
            return new OciContainer(id, root, status == null ? "unknown" : status, pid,
                    bundle == null || bundle.isEmpty() ? null : Path.of(bundle), instant(created),
                    annotations == null ? Map.of() : annotations);
        }

        private static @Nullable Instant instant(@Nullable String text) {
            if (text == null) {
                return null;
            }
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
    }
}
