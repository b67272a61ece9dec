package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the Dockerfile builds, without a container engine: the packaged jar extracted into its layers as the image
 * does, started with the image's command line and environment (0.0.0.0, EXECGATE_* variables, config/ beside it),
 * healthy and running an exec.
 */
class ImageLayoutIT {

    private static final String JAVA = ForkedService.JAVA;
    private static final String TOKEN = "image-layout-test-token";

    @TempDir
    Path dir;

    @Test
    void theExtractedLayersStartWithTheImagesCommandLineAndEnvironment() throws Exception {
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

        // The Dockerfile's own ENTRYPOINT and ENV, with the JDK running this test as "java".
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(dockerfile);
        assertThat(entrypoint.find()).as("the Dockerfile has an exec-form ENTRYPOINT").isTrue();
        List<String> command = new ArrayList<>();
        JsonMapper.builder().build().readTree(entrypoint.group(1)).forEach(arg -> command.add(arg.asString()));
        assertThat(command.getFirst()).isEqualTo("java");
        command.set(0, JAVA);
        assertThat(dockerfile).contains("SERVER_ADDRESS=0.0.0.0", "EXECGATE_DATA_DIR=/var/lib/execgate",
                "COPY config/application.yaml config/application.yaml");

        Map<String, String> env = Map.of("SERVER_ADDRESS", "0.0.0.0", "EXECGATE_DATA_DIR", dir.resolve("data").toString(),
                "EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN);
        try (ForkedService service = ForkedService.start(command, app, env, ForkedService.freePort(),
                dir.resolve("service.log"))) {
            assertThat(service.awaitLive(Duration.ofSeconds(60))).as("liveness within 60 s; log: %s", service.log())
                    .isTrue();
            HttpResponse<String> run = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    service.uri("/api/v1/host/execs/run")).header("Authorization", "Bearer " + TOKEN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"command\": [\"echo\", \"from the image\"]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(run.statusCode()).isEqualTo(200);
            assertThat(run.body()).contains("\"stdout\":\"from the image\\n\"");
            assertThat(service.log()).contains("Tomcat started on port " + service.port()).doesNotContain(TOKEN);
        }
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
