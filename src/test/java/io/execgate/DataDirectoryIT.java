package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.execgate.support.ForkedService;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * One service per data directory, against real services started from the packaged jar: a second one on the
 * directory stops before it touches anything of the first's (its running execs' records, its UVMs), a SIGKILLed
 * holder does not keep the next start out, and a directory on a read-only mount stops the start naming it.
 */
class DataDirectoryIT {

    private static final String TOKEN = "data-directory-test-token";
    private static final Path IMAGE = Path.of("target/uvm-image");

    @TempDir
    Path dir;

    @Test
    void aSecondServiceOnTheDirectoryStopsAndLeavesTheFirstsExecsAndUvmsAlone() throws Exception {
        Path data = dir.resolve("data");
        long sleeperPid = -1;
        String sleeper;
        long qemu = -1;
        try (ForkedService first = ForkedService.startJar(env(data), dir.resolve("first.log"))) {
            JsonNode running = first.send(TOKEN, "POST", "/api/v1/host/execs", "{\"command\": [\"sleep\", \"600\"]}");
            sleeper = running.path("id").asString();
            sleeperPid = running.path("pid").asLong();
            boolean uvm = qemuAvailable(first);
            try {
                if (uvm) {
                    first.send(TOKEN, "POST", "/api/v1/uvms", "{\"id\": \"kept\"}");
                    first.awaitUvmRunning(TOKEN, "kept");
                    try (var dirs = Files.list(data.resolve("uvm"))) {
                        qemu = Long.parseLong(Files.readString(dirs.findFirst().orElseThrow().resolve("qemu.pid")));
                    }
                }

                ForkedService second = ForkedService.start(ForkedService.jarCommand(), Path.of("."), env(data),
                        ForkedService.freePort(), dir.resolve("second.log"));
                try {
                    assertThat(second.awaitExit(Duration.ofSeconds(60))).as("exit code; log: %s", second.log()).isEqualTo(1);
                } finally {
                    second.kill(); // never left running, pass or fail
                }
                assertThat(second.log()).contains("APPLICATION FAILED TO START",
                        "the data directory " + data.toAbsolutePath() + " is in use by another execgate (pid "
                                + first.handle().pid() + ", locked at ",
                        "give this one another directory with execgate.data-dir");
                assertThat(second.log()).as("it stopped before the records and the UVMs")
                        .doesNotContain("execs running when execgate last stopped", "left running", "left behind");

                JsonNode still = first.send(TOKEN, "GET", "/api/v1/execs/" + sleeper, null);
                assertThat(still.path("state").asString()).isEqualTo("running");
                assertThat(Processes.isGone(sleeperPid)).isFalse();
                if (uvm) {
                    assertThat(Processes.isGone(qemu)).as("the first service's QEMU").isFalse();
                    JsonNode run = first.send(TOKEN, "POST", "/api/v1/uvms/kept/execs/run",
                            "{\"command\": [\"echo\", \"still here\"]}");
                    assertThat(run.path("stdout").asString()).isEqualTo("still here\n");
                }
            } finally {
                first.kill(); // SIGKILL: the kernel drops its lock; QEMU dies with it (its parent-death signal)
            }
            try (ForkedService next = ForkedService.startJar(env(data), dir.resolve("next.log"))) {
                // The killed holder kept nothing out, and the records the second service did not touch say what ran.
                JsonNode lost = next.send(TOKEN, "GET", "/api/v1/execs/" + sleeper, null);
                assertThat(lost.path("reason").asString()).isEqualTo("lost");
                assertThat(Files.readString(data.resolve("execgate.lock"))).startsWith("pid " + next.handle().pid() + ",");
            }
        } finally {
            // Never left behind, pass or fail: the sleeper outlives a killed service, and QEMU is killed with it.
            for (long pid : new long[] {sleeperPid, qemu}) {
                if (pid > 0) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        assertThat(Processes.awaitGone(sleeperPid, 5_000)).isTrue();
    }

    @Test
    void aDataDirectoryOnAReadOnlyMountStopsTheStartNamingIt() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path records = Files.writeString(data.resolve("execgate.db"), ""); // what an earlier run left
        // In a mount namespace of its own, the data directory bound read-only over itself: only this service sees it.
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"", data.toString()));
        command.addAll(ForkedService.jarCommand());
        try (ForkedService service = ForkedService.start(command, Path.of("."), env(data), ForkedService.freePort(),
                dir.resolve("ro.log"))) {
            assertThat(service.awaitExit(Duration.ofSeconds(60))).as("exit code; log: %s", service.log()).isEqualTo(1);
            assertThat(service.log()).contains("APPLICATION FAILED TO START",
                    "the data directory " + data.toAbsolutePath() + " cannot be written",
                    "writable by the service");
        }
        try (var left = Files.list(data)) {
            assertThat(left).as("left as it was").containsExactly(records);
        }
    }

    private static boolean qemuAvailable(ForkedService service) throws Exception {
        if (!Files.isRegularFile(IMAGE.resolve("initrd.img"))) {
            return false;
        }
        for (JsonNode backend : service.send(TOKEN, "GET", "/api/v1/host", null).path("backends")) {
            if (backend.path("name").asString().equals("qemu")) {
                return backend.path("available").asBoolean();
            }
        }
        return false;
    }

    private static Map<String, String> env(Path data) {
        return Map.of("EXECGATE_DATA_DIR", data.toString(), "EXECGATE_SECURITY_ADMIN_TOKEN", TOKEN,
                "EXECGATE_BACKENDS_QEMU_IMAGE_DIR", IMAGE.toAbsolutePath().toString());
    }
}
