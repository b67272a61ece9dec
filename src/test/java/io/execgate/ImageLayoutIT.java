package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.execgate.support.ForkedService;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the Dockerfile builds, without a container engine: the packaged jar extracted into its layers as the image
 * does, started with the image's command line and environment (0.0.0.0, EXECGATE_* variables, config/ beside it),
 * healthy and running an exec; and started as PID 1 of a pid namespace of its own, as a container runs it.
 */
class ImageLayoutIT {

    private static final String JAVA = ForkedService.JAVA;
    private static final String TOKEN = "image-layout-test-token";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void theExtractedLayersStartWithTheImagesCommandLineAndEnvironment() throws Exception {
        Path app = layOut();
        try (ForkedService service = ForkedService.start(imageCommand(), app, environment(), ForkedService.freePort(),
                dir.resolve("service.log"))) {
            assertThat(service.awaitLive(Duration.ofSeconds(60))).as("liveness within 60 s; log: %s", service.log())
                    .isTrue();
            HttpResponse<String> run = run(service, "[\"echo\", \"from the image\"]");
            assertThat(run.statusCode()).isEqualTo(200);
            assertThat(run.body()).contains("\"stdout\":\"from the image\\n\"");
            assertThat(service.log()).contains("Tomcat started on port " + service.port()).doesNotContain(TOKEN);
        }
    }

    /**
     * In a container the entrypoint is PID 1, to which the kernel hands every orphan: an exec's background child
     * outlives its exec (as with docker exec) and is reaped by PID 1 when it exits, which the JVM never does. The
     * image's init does.
     */
    @Test
    void asPidOneOfItsOwnPidNamespaceTheImageLeavesNoZombies() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "a pid namespace of its own needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare (util-linux)");
        Path app = layOut();
        // --kill-child: should this test's JVM die, the namespace dies with unshare
        List<String> command = new ArrayList<>(List.of("/usr/bin/unshare", "--fork", "--pid", "--mount-proc",
                "--kill-child"));
        command.addAll(imageCommand());
        try (ForkedService service = ForkedService.start(command, app, environment(), ForkedService.freePort(),
                dir.resolve("service.log"))) {
            ProcessHandle pidOne = null;
            try {
                assertThat(service.awaitLive(Duration.ofSeconds(60))).as("liveness within 60 s; log: %s", service.log())
                        .isTrue();
                pidOne = service.handle().children().findFirst().orElseThrow();
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> run = run(service, "[\"sh\", \"-c\", \"sleep 0.2 & echo started\"]");
                    assertThat(run.statusCode()).isEqualTo(200);
                    assertThat(run.body()).contains("\"stdout\":\"started\\n\"");
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                List<Long> zombies = Processes.zombiesUnder(service.handle().pid());
                while (!zombies.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    zombies = Processes.zombiesUnder(service.handle().pid());
                }
                assertThat(zombies).as("zombies in the service's pid namespace 5 s after its execs ended").isEmpty();
            } finally {
                // unshare blocks SIGTERM while it waits; PID 1 takes it (the init passes it on to the JVM), and the
                // kernel kills whatever is left in the namespace when PID 1 exits.
                if (pidOne != null) {
                    pidOne.destroy();
                }
                service.awaitExit(Duration.ofSeconds(30));
            }
        }
    }

    /** The jar extracted into the image's layers, copied as the Dockerfile copies them; the working directory. */
    private Path layOut() throws Exception {
        Path jar = ForkedService.packagedJar();
        Path app = dir.resolve("opt");
        run(List.of(JAVA, "-Djarmode=tools", "-jar", jar.toString(), "extract", "--layers", "--launcher",
                "--destination", dir.resolve("layers").toString()));
        Files.createDirectories(app);
        for (String layer : List.of("dependencies", "spring-boot-loader", "snapshot-dependencies", "application")) {
            copyTree(dir.resolve("layers").resolve(layer), app); // COPY --from=build /layers/<layer>/ ./
        }
        Files.createDirectories(app.resolve("config"));
        Files.copy(Path.of("config/application.yaml"), app.resolve("config/application.yaml"));
        return app;
    }

    /** The Dockerfile's own ENTRYPOINT, with the JDK running this test as "java". */
    private static List<String> imageCommand() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(dockerfile);
        assertThat(entrypoint.find()).as("the Dockerfile has an exec-form ENTRYPOINT").isTrue();
        List<String> command = new ArrayList<>();
        JsonMapper.builder().build().readTree(entrypoint.group(1)).forEach(arg -> command.add(arg.asString()));
        assertThat(command).as("the image runs java").contains("java");
        command.set(command.indexOf("java"), JAVA);
        if (command.getFirst().equals("tini")) {
            assertThat(dockerfile).as("the image installs tini").containsPattern("apt-get install [^\\n]* tini");
            Path tini = Path.of("/usr/bin/tini"); // where Debian's package puts it
            assumeTrue(Files.isExecutable(tini), "the image's command line needs tini (.ci/run installs it)");
            command.set(0, tini.toString());
        }
        assertThat(dockerfile).contains("SERVER_ADDRESS=0.0.0.0", "EXECGATE_DATA_DIR=/var/lib/execgate",
                "COPY config/application.yaml config/application.yaml");
        return command;
    }

    /** The Dockerfile's ENV, with the data directory in this test's directory. */
    private Map<String, String> environment() {
        return Map.of("SERVER_ADDRESS", "0.0.0.0", "EXECGATE_DATA_DIR", dir.resolve("data").toString(),
                "EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN);
    }

    private static HttpResponse<String> run(ForkedService service, String command) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(service.uri("/api/v1/host/execs/run"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"command\": " + command + "}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command)).isZero();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(from)) {
            walk.sorted(Comparator.naturalOrder()).forEach(paths::add);
        }
        for (Path path : paths) {
            Path target = to.resolve(from.relativize(path).toString());
            if (Files.isDirectory(path)) {
                Files.createDirectories(target);
            } else {
                Files.copy(path, target);
            }
        }
    }

}
