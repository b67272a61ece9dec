package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

import io.execgate.support.ForkedService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A host out of processes: the service, forked from the packaged jar, is put in a pids cgroup with no room left,
 * as a pod's pids limit does when something in it forks without end. posix_spawn then fails with EAGAIN, and the
 * exec is a 503 to retry, not a 422 saying the command cannot run; with room again, execs run.
 */
class ProcessLimitIT {

    private static final String TOKEN = "process-limit-test-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    @Test
    void anExecOnAHostOutOfProcessesIsA503ToRetryAndRunsOnceThereIsRoom() throws Exception {
        Path pids = pidsHierarchy();
        assumeTrue(pids != null, "skipped: no writable pids cgroup (v1 /sys/fs/cgroup/pids or v2 with pids enabled)");
        Path group = pids.resolve("execgate-test-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
        try (ForkedService service = ForkedService.startJar(ForkedService.env(dir.resolve("data"), TOKEN),
                dir.resolve("service.log"))) {
            // Its threads made, as a service in use has them; past the limit the JVM can start no thread either.
            // Besides the pools an exec uses, a timed wait (an exit wait) starts the virtual threads' timer
            // thread, which a 503's response may need too: without it a request could hang.
            assertThat(service.send(TOKEN, "POST", "/api/v1/host/execs/run", "{\"command\": [\"true\"]}")
                    .path("exitCode").asInt()).isZero();
            String sleeping = service.send(TOKEN, "POST", "/api/v1/host/execs", "{\"command\": [\"sleep\", \"0.5\"]}")
                    .path("id").asString();
            assertThat(service.send(TOKEN, "GET", "/api/v1/execs/" + sleeping + "/exit?wait=PT0.1S", null)
                    .path("exited").asBoolean()).isFalse();
            assertThat(service.send(TOKEN, "GET", "/api/v1/execs/" + sleeping + "/exit?wait=PT10S", null)
                    .path("exitCode").asInt()).isZero();
            long pid = service.handle().pid();
            Path home = pids.resolve(ownGroup(pid, pids));
            Files.createDirectory(group);
            try {
                Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
                // Every process and thread counts, and the limit may lie below what the group has: no fork or clone
                // in the service succeeds, whichever of its threads end meanwhile.
                Files.writeString(group.resolve("pids.max"), "1");

                for (String path : new String[] {"/api/v1/host/execs", "/api/v1/host/execs/run"}) {
                    HttpResponse<String> refused = service.exchange(TOKEN, "POST", path, "{\"command\": [\"true\"]}");
                    assertThat(refused.statusCode()).as("%s: %s", path, refused.body()).isEqualTo(503);
                    assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
                    JsonNode problem = JSON.readTree(refused.body());
                    assertThat(problem.path("code").asString()).isEqualTo("BACKEND_UNAVAILABLE");
                    assertThat(problem.path("detail").asString()).isEqualTo("exec: \"true\": resource temporarily "
                            + "unavailable (the host is out of processes or memory for now)");
                    JsonNode exec = service.send(TOKEN, "GET", "/api/v1/execs/" + problem.path("execId").asString(), null);
                    assertThat(exec.path("state").asString()).isEqualTo("failed");
                    assertThat(exec.path("reason").asString()).isEqualTo("start-failed");
                }

                Files.writeString(group.resolve("pids.max"), "max");
                JsonNode run = service.send(TOKEN, "POST", "/api/v1/host/execs/run", "{\"command\": [\"echo\", \"room\"]}");
                assertThat(run.path("stdout").asString()).isEqualTo("room\n");
            } finally {
                Files.writeString(group.resolve("pids.max"), "max");
                Files.writeString(home.resolve("cgroup.procs"), Long.toString(pid)); // back where it was
            }
        } finally {
            if (Files.isDirectory(group)) {
                Files.delete(group); // empty once the service is back in its parent, or gone
            }
        }
    }

    /** The pids cgroup of a process, relative to the hierarchy: {@code /proc/<pid>/cgroup}'s pids (v1) or only (v2) line. */
    private static String ownGroup(long pid, Path hierarchy) throws Exception {
        boolean v1 = hierarchy.endsWith("pids");
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] fields = line.split(":", 3);
            if (v1 ? Arrays.asList(fields[1].split(",")).contains("pids") : fields[0].equals("0")) {
                return fields[2].substring(1); // without the leading slash
            }
        }
        throw new IllegalStateException("no pids cgroup for " + pid + " in /proc/" + pid + "/cgroup");
    }

    /** Where pids cgroups can be made here, or null: cgroup v1's pids hierarchy, or v2's with the controller on. */
    private static Path pidsHierarchy() throws Exception {
        Path v1 = Path.of("/sys/fs/cgroup/pids");
        if (Files.isWritable(v1.resolve("cgroup.procs"))) {
            return v1;
        }
        Path v2 = Path.of("/sys/fs/cgroup");
        Path control = v2.resolve("cgroup.subtree_control");
        if (Files.isWritable(control) && Files.readString(control).contains("pids")) {
            return v2;
        }
        return null;
    }
}
