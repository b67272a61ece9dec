package io.execgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.execgate.support.ForkedService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service with a temporary directory of its own: while it runs, Tomcat's files are in one directory
 * there (not Spring Boot's two per start), and once it has stopped nothing of it is left (sqlite-jdbc's extracted
 * library goes at a normal exit too).
 */
class TomcatTempDirectoriesIT {

    private static final String TOKEN = "tomcat-temp-directories-token";

    @TempDir
    Path dir;

    @Test
    void oneDirectoryWhileItRunsAndNoneAfterItStopped() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        List<String> command = List.of(ForkedService.JAVA, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-Djava.io.tmpdir=" + tmp, "-jar", ForkedService.packagedJar().toAbsolutePath().toString());
        try (ForkedService service = ForkedService.start(command, Path.of("."),
                ForkedService.env(dir.resolve("data"), TOKEN), ForkedService.freePort(), dir.resolve("service.log"))) {
            assertThat(service.awaitLive(Duration.ofSeconds(60))).as("live; log: %s", service.log()).isTrue();
            assertThat(names(tmp)).as("Tomcat's directories while it runs")
                    .filteredOn(name -> name.contains("tomcat")).singleElement().asString()
                    .startsWith("execgate-tomcat-");
            assertThat(Files.isDirectory(tmp.resolve(names(tmp).stream().filter(n -> n.startsWith("execgate-tomcat-"))
                    .findFirst().orElseThrow()).resolve("docbase"))).isTrue();
        } // SIGTERM: a graceful stop
        assertThat(names(tmp)).as("left in its temporary directory").isEmpty();
    }

    /**
     * Contexts closed in a running JVM (as tests do) leave nothing either, and the next one does not make the last
     * one's directory again (Tomcat keeps its first base directory in the JVM's {@code catalina.home}).
     */
    @Test
    void closedContextsLeaveNoDirectoryAndTheNextDoesNotMakeTheLastOnesAgain() throws Exception {
        Path first = runAndClose("first");
        assertThat(first).doesNotExist();
        Path second = runAndClose("second");
        assertThat(second).isNotEqualTo(first).doesNotExist();
        assertThat(first).doesNotExist();
    }

    private Path runAndClose(String name) {
        org.springframework.context.ConfigurableApplicationContext context =
                new org.springframework.boot.builder.SpringApplicationBuilder(io.execgate.ExecgateApplication.class)
                        .run("--server.port=0", "--execgate.data-dir=" + dir.resolve(name),
                                "--execgate.security.admin-token=" + TOKEN);
        Path tomcat = context.getBean(TomcatTempDirectories.class).directory();
        assertThat(tomcat).isNotNull().isDirectory();
        context.close();
        return tomcat;
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(path -> path.getFileName().toString()).toList();
        }
    }
}
