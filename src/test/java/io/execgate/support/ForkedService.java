package io.execgate.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * execgate in a process of its own, started from the packaged jar (or any command line), for tests that must do
 * to the service what the test JVM cannot do to itself: kill it with SIGKILL, start it in another mount namespace,
 * run it from the image's layout. Its output goes to a log file the test can read.
 */
public final class ForkedService implements AutoCloseable {

    /** The JDK running the tests, which is the one the service needs. */
    public static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Process process;
    private final Path log;
    private final int port;

    private ForkedService(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts {@code command} (which must bind the service to {@code port}, given as {@code SERVER_PORT} too) in
     * {@code dir} with these environment variables added.
     */
    public static ForkedService start(List<String> command, Path dir, Map<String, String> env, int port, Path log)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("SERVER_PORT", Integer.toString(port));
        builder.environment().putAll(env);
        return new ForkedService(builder.start(), log, port);
    }

    /**
     * The environment of a forked service with this data directory and admin token. Run in the project directory,
     * it finds the UVM image where {@code uvm/build-image} puts it ({@code target/uvm-image}, the default).
     */
    public static Map<String, String> env(Path dataDir, String adminToken) {
        return Map.of("EXECGATE_DATA_DIR", dataDir.toString(), "EXECGATE_SECURITY_ADMIN_TOKEN", adminToken);
    }

    /**
     * The packaged jar, run in the project directory with these environment variables on a free port, once live.
     *
     * @throws IllegalStateException, with the service's log, when it is not live within 60 s (it is stopped then)
     */
    public static ForkedService startJar(Map<String, String> env, Path log) throws IOException, InterruptedException {
        ForkedService service = start(jarCommand(), Path.of("."), env, freePort(), log);
        if (!service.awaitLive(Duration.ofSeconds(60))) {
            service.close();
            throw new IllegalStateException("the service is not live within 60 s; its log: " + service.log());
        }
        return service;
    }

    /**
     * {@code java -jar target/execgate-*.jar} with these arguments, run in the project directory. Its temporary
     * files go under {@code target/forked-tmp}: a service a test kills cannot remove them (sqlite-jdbc's extracted
     * library, 1 MiB a start, is removed only at a normal exit), and they must not pile up in {@code /tmp}.
     */
    public static List<String> jarCommand(String... args) throws IOException {
        Path tmp = Files.createDirectories(Path.of("target", "forked-tmp")).toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-Djava.io.tmpdir=" + tmp, "-jar", packagedJar().toAbsolutePath().toString()));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * {@link #jarCommand} in a mount namespace of its own, after the shell commands {@code setup} ran there with
     * {@code path} as {@code $0}: mounts only the service sees, e.g. a read-only bind or a small tmpfs. The service
     * keeps the process's pid (every step execs the next), so {@code /proc/<pid>/root} shows its view.
     */
    public static List<String> jarCommandInMounts(String setup, Path path) throws IOException {
        Assumptions.assumeTrue(CanUnshareMounts.VALUE, "unshare --mount is refused here (it needs root, outside a "
                + "container that forbids it)");
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                setup + " && exec \"$@\"", path.toString()));
        command.addAll(jarCommand());
        return command;
    }

    /** Whether this process may make a mount namespace of its own (root, and no container forbidding it). */
    private static final class CanUnshareMounts {
        static final boolean VALUE = probe();

        private static boolean probe() {
            try {
                Process process = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "true")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return false;
                }
                return process.exitValue() == 0;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    public static Path packagedJar() throws IOException {
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(Path.of("target"), "execgate-*.jar")) {
            for (Path jar : jars) {
                return jar;
            }
        }
        throw new IllegalStateException("no target/execgate-*.jar: failsafe runs after package");
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** True once {@code /actuator/health/liveness} answers 200, false after {@code within} or when the process ends. */
    public boolean awaitLive(Duration within) throws InterruptedException {
        return awaitLive(HTTP, uri("/"), within);
    }

    /** As {@link #awaitLive(Duration)}, asked by {@code client} at {@code base} (an HTTPS client, say). */
    public boolean awaitLive(HttpClient client, URI base, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            try {
                if (client.send(HttpRequest.newBuilder(base.resolve("/actuator/health/liveness")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** The process started, e.g. to find the service under a wrapper ({@code unshare}) among its children. */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    /**
     * Sends {@code method path} with the bearer {@code token} and a JSON body (none when null); the answer's JSON.
     *
     * @throws IOException for an answer other than 2xx, naming its status and body (or when the service is gone)
     */
    public JsonNode send(String token, String method, String path, @Nullable String json)
            throws IOException, InterruptedException {
        HttpResponse<String> response = exchange(token, method, path, json);
        if (response.statusCode() / 100 != 2) {
            throw new IOException(method + " " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** Sends {@code method path} with the bearer {@code token} and a JSON body (none when null); the answer as it is. */
    public HttpResponse<String> exchange(String token, String method, String path, @Nullable String json)
            throws IOException, InterruptedException {
        // A service that never answers fails the test instead of holding the build for ever.
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token);
        if (json != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Whether {@code GET /api/v1/host} lists the backend {@code name} as available. */
    public boolean backendAvailable(String token, String name) throws IOException, InterruptedException {
        for (JsonNode backend : send(token, "GET", "/api/v1/host", null).path("backends")) {
            if (backend.path("name").asString().equals(name)) {
                return backend.path("available").asBoolean();
            }
        }
        return false;
    }

    /**
     * Waits for the UVM {@code id} to boot; its resource once running.
     *
     * @throws IllegalStateException when it is neither booting nor running, or still booting after 120 s
     */
    public JsonNode awaitUvmRunning(String token, String id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            JsonNode uvm = send(token, "GET", "/api/v1/uvms/" + id, null);
            String state = uvm.path("state").asString();
            if (state.equals("running")) {
                return uvm;
            }
            if (!state.equals("booting") || System.nanoTime() > deadline) {
                throw new IllegalStateException("UVM " + id + " did not boot: " + uvm);
            }
            Thread.sleep(200);
        }
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public int port() {
        return port;
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** Waits for the process to end by itself; its exit code, or -1 if it still runs after {@code within}. */
    public int awaitExit(Duration within) throws InterruptedException {
        return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /** SIGKILL: the service gets no chance to finish anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if the service has not ended within 30 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
