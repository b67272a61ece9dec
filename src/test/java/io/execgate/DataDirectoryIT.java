package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.execgate.support.ForkedService;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * One service per data directory, against real services started from the packaged jar: a second one on the
 * directory stops before it touches anything of the first's (its running execs' records, its UVMs), a SIGKILLed
 * holder does not keep the next start out, and a directory on a read-only mount stops the start naming it. Within
 * one process, a refused second holder leaves the first's lock in place.
 */
class DataDirectoryIT {

    private static final String TOKEN = "data-directory-test-token";
    private static final Path IMAGE = Path.of("target/uvm-image");

    @TempDir
    Path dir;

    @Test
    void aSecondServiceOnTheDirectoryStopsAndLeavesTheFirstsExecsAlone() throws Exception {
        Path data = dir.resolve("data");
        long sleeperPid = -1;
        try (ForkedService first = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("first.log"))) {
            JsonNode running = first.send(TOKEN, "POST", "/api/v1/host/execs", "{\"command\": [\"sleep\", \"600\"]}");
            String sleeper = running.path("id").asString();
            sleeperPid = running.path("pid").asLong();
            try {
                secondIsRefused(first, data);
                JsonNode still = first.send(TOKEN, "GET", "/api/v1/execs/" + sleeper, null);
                assertThat(still.path("state").asString()).isEqualTo("running");
                assertThat(Processes.isGone(sleeperPid)).isFalse();
            } finally {
                first.kill(); // SIGKILL: the kernel drops its lock
            }
            try (ForkedService next = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("next.log"))) {
                // The killed holder kept nothing out, and the records the second service did not touch say what ran.
                JsonNode lost = next.send(TOKEN, "GET", "/api/v1/execs/" + sleeper, null);
                assertThat(lost.path("reason").asString()).isEqualTo("lost");
                assertThat(Files.readString(data.resolve("execgate.lock"))).startsWith("pid " + next.handle().pid() + ",");
            }
        } finally {
            if (sleeperPid > 0) { // it outlives a killed service: never left behind, pass or fail
                ProcessHandle.of(sleeperPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        assertThat(Processes.awaitGone(sleeperPid, 5_000)).isTrue();
    }

    @Test
    void aSecondServiceOnTheDirectoryLeavesTheFirstsUvmRunning() throws Exception {
        assumeTrue(Files.isRegularFile(IMAGE.resolve("initrd.img")), "skipped: no UVM image (uvm/build-image)");
        Path data = dir.resolve("data");
        long qemu = -1;
        try (ForkedService first = ForkedService.startJar(ForkedService.env(data, TOKEN), dir.resolve("first.log"))) {
            assumeTrue(first.backendAvailable(TOKEN, "qemu"), "skipped: the QEMU backend is not available here");
            first.send(TOKEN, "POST", "/api/v1/uvms", "{\"id\": \"kept\"}");
            first.awaitUvmRunning(TOKEN, "kept");
            try (var dirs = Files.list(data.resolve("uvm"))) {
                qemu = Long.parseLong(Files.readString(dirs.findFirst().orElseThrow().resolve("qemu.pid")));
            }
            secondIsRefused(first, data);
            assertThat(Processes.isGone(qemu)).as("the first service's QEMU").isFalse();
            JsonNode run = first.send(TOKEN, "POST", "/api/v1/uvms/kept/execs/run",
                    "{\"command\": [\"echo\", \"still here\"]}");
            assertThat(run.path("stdout").asString()).isEqualTo("still here\n");
        } finally {
            if (qemu > 0) { // stopped with the first service; killed here if that failed
                ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /**
     * Another service in this process is refused without opening the lock file: closing a second descriptor of it
     * would drop the first's fcntl lock, which another process (Python's lockf here) would then get.
     */
    @Test
    void aSecondHolderInOneProcessIsRefusedAndTheFirstKeepsItsLock() throws Exception {
        Path lockFile = dir.resolve(DataDirectory.LOCK_FILE);
        try (DataDirectory first = DataDirectory.lock(dir)) {
            for (int i = 0; i < 2; i++) {
                assertThatExceptionOfType(DataDirectoryException.class).isThrownBy(() -> DataDirectory.lock(dir.resolve(".")))
                        .withMessageContaining("is in use by another execgate (pid " + ProcessHandle.current().pid() + ", locked at ");
                assertThat(lockableElsewhere(lockFile)).as("the first's lock, seen from another process").isFalse();
            }
        }
        assertThat(lockableElsewhere(lockFile)).as("let go at close").isTrue();
    }

    private static boolean lockableElsewhere(Path file) throws Exception {
        Process python = new ProcessBuilder("python3", "-c",
                "import fcntl, sys; fcntl.lockf(open(sys.argv[1], 'r+'), fcntl.LOCK_EX | fcntl.LOCK_NB)", file.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return python.exitValue() == 0;
    }

    private void secondIsRefused(ForkedService first, Path data) throws Exception {
        ForkedService second = ForkedService.start(ForkedService.jarCommand(), Path.of("."), ForkedService.env(data, TOKEN),
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
    }

    @Test
    void aDataDirectoryOnAReadOnlyMountStopsTheStartNamingIt() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path records = Files.writeString(data.resolve("execgate.db"), ""); // what an earlier run left
        // The data directory bound read-only over itself, in a mount namespace only this service sees.
        List<String> command = ForkedService.jarCommandInMounts(
                "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\"", data);
        try (ForkedService service = ForkedService.start(command, Path.of("."), ForkedService.env(data, TOKEN), ForkedService.freePort(),
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
}
