package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The README's client, {@code examples/exec.py} (websocket-client, as the Kubernetes Python client uses), against
 * the service: stdin in, output out, the command's exit code as its own. CI installs python3-websocket.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ExampleClientIT {

    private static final String PYTHON = "/usr/bin/python3";

    @LocalServerPort
    int port;

    @Test
    void theReadmeClientRunsACommandWithStdinAndReturnsItsExitCode() throws Exception {
        Process probe = new ProcessBuilder(PYTHON, "-c", "import websocket").start();
        assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "needs Debian's python3-websocket (.ci/run installs it)");

        Result result = run(List.of("-i", "--", "sh", "-c", "tr a-z A-Z; echo done >&2; exit 3"), "hello\n");
        assertThat(result.stdout()).isEqualTo("HELLO\n");
        assertThat(result.stderr()).isEqualTo("done\n");
        assertThat(result.exitCode()).isEqualTo(3);

        assertThat(run(List.of("--", "true"), "").exitCode()).isZero();
    }

    private record Result(int exitCode, String stdout, String stderr) {
    }

    private Result run(List<String> arguments, String input) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(PYTHON, "examples/exec.py", "--server", "127.0.0.1:" + port,
                "--token", io.execgate.support.Api.ADMIN_TOKEN));
        command.addAll(arguments);
        Process client = new ProcessBuilder(command).start();
        client.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        client.getOutputStream().close();
        var stderr = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(client.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        });
        String stdout = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(client.exitValue(), stdout, stderr.get(10, TimeUnit.SECONDS));
    }
}
