package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import io.execgate.ExecgateApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** A service started with no token at all makes an admin token, shows it once, keeps it private, and reuses it. */
@ExtendWith(OutputCaptureExtension.class)
class GeneratedTokenIT {

    @TempDir
    Path dataDir;

    @Test
    void theGeneratedTokenIsShownOnceKeptWithMode0600AndReused(CapturedOutput output) throws Exception {
        String token;
        try (ConfigurableApplicationContext first = start()) {
            Path file = dataDir.resolve("admin-token");
            token = Files.readString(file).strip();
            assertThat(token).hasSize(43); // 256 bits, base64url without padding
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir))).startsWith("rwx");
            assertThat(count(output.getAll(), token)).as("shown once").isEqualTo(1);
            assertThat(status(first, token)).isEqualTo(200);
            assertThat(status(first, "wrong")).isEqualTo(401);
        }
        int before = output.getAll().length();
        try (ConfigurableApplicationContext second = start()) {
            assertThat(Files.readString(dataDir.resolve("admin-token")).strip()).isEqualTo(token);
            assertThat(status(second, token)).as("the same token works after a restart").isEqualTo(200);
            assertThat(output.getAll().substring(before)).doesNotContain(token).contains("using the admin token in");
        }
    }

    @Test
    void aTokenFileThatCouldBeSomeoneElsesStopsTheStart() throws Exception {
        Path elsewhere = Files.writeString(Files.createTempFile("execgate-foreign", ".token"), "known-token-0123456789\n");
        try {
            Files.createSymbolicLink(dataDir.resolve("admin-token"), elsewhere);
            assertThat(startFailure()).contains("is not a regular file");
            Files.delete(dataDir.resolve("admin-token"));

            Files.writeString(dataDir.resolve("admin-token"), "known-token-0123456789\n");
            Files.setPosixFilePermissions(dataDir.resolve("admin-token"), PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(startFailure()).contains("must be 0600");
            Files.delete(dataDir.resolve("admin-token"));

            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertThat(startFailure()).contains("writable by others");
            assertThat(Files.exists(dataDir.resolve("admin-token"))).isFalse();
        } finally {
            Files.deleteIfExists(elsewhere);
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    private String startFailure() {
        try {
            start().close();
            throw new AssertionError("the service started");
        } catch (IllegalStateException | org.springframework.beans.BeansException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return root.getMessage();
        }
    }

    private ConfigurableApplicationContext start() {
        // command-line arguments outrank the test's application.properties, which sets a fixed admin token
        return new SpringApplicationBuilder(ExecgateApplication.class).run("--server.port=0",
                "--execgate.security.admin-token=", "--execgate.data-dir=" + dataDir);
    }

    private static int status(ConfigurableApplicationContext context, String token) throws Exception {
        int port = ((WebServerApplicationContext) context).getWebServer().getPort();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/host"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }
}
