package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.execgate.host.local.LocalProcesses;
import io.execgate.support.ForkedService;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A service killed with SIGKILL takes its VMs with it: QEMU runs with a parent-death signal, and the next service
 * on the same data directory removes the VM's directory. The service runs from the packaged jar in a process of
 * its own; one VM is booted.
 */
class QemuCrashIT {

    private static final String TOKEN = "qemu-crash-test-token";
    private static final Path IMAGE = Path.of("target/uvm-image");

    @TempDir
    Path dir;

    @Test
    void qemuDiesWithAKilledServiceAndTheNextStartLeavesNoDirectory() throws Exception {
        assumeTrue(Files.isRegularFile(IMAGE.resolve("initrd.img")), "skipped: no UVM image (uvm/build-image)");
        assumeTrue(LocalProcesses.locate("setpriv").isPresent(), "skipped: no setpriv (util-linux)");
        Path data = dir.resolve("data");
        Path uvms = data.resolve("uvm");
        long qemu = -1;
        try (ForkedService service = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("first.log"))) {
            assumeTrue(service.backendAvailable(TOKEN, "qemu"), "skipped: the QEMU backend is not available here");
            service.send(TOKEN, "POST", "/api/v1/uvms", "{\"id\": \"doomed\"}");
            service.awaitUvmRunning(TOKEN, "doomed");
            List<Path> left = list(uvms);
            assertThat(left).hasSize(1);
            qemu = Long.parseLong(Files.readString(left.getFirst().resolve("qemu.pid")));
            assertThat(new String(Files.readAllBytes(Path.of("/proc/" + qemu + "/cmdline")))).as("QEMU's command line")
                    .contains("qemu-system", left.getFirst().resolve("agent.sock").toString());
            // The thread that spawned QEMU ended no boot with it: QEMU still runs and answers afterwards.
            Thread.sleep(1_000);
            JsonNode run = service.send(TOKEN, "POST", "/api/v1/uvms/doomed/execs/run", "{\"command\": [\"echo\", \"alive\"]}");
            assertThat(run.path("stdout").asString()).isEqualTo("alive\n");
            assertThat(Processes.isGone(qemu)).isFalse();

            service.kill(); // SIGKILL: no shutdown hook, no stop

            assertThat(Processes.awaitGone(qemu, 5_000)).as("QEMU %d after the service's SIGKILL", qemu).isTrue();
            assertThat(list(uvms)).as("what the killed service left").hasSize(1);
        } finally {
            if (qemu > 0) {
                ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly); // never left behind, pass or fail
            }
        }
        try (ForkedService again = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("second.log"))) {
            assertThat(list(uvms)).as("directories after the next start").isEmpty();
            assertThat(again.send(TOKEN, "GET", "/api/v1/uvms", null)).isEmpty();
        }
    }

    private static List<Path> list(Path uvms) throws IOException {
        if (!Files.isDirectory(uvms)) {
            return List.of();
        }
        try (var entries = Files.list(uvms)) {
            return entries.toList();
        }
    }
}
