package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import io.execgate.host.local.LocalProcesses;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start given up after the runtime had started its process (the pid file written as the start timed out, or no
 * thread was left to follow it): the process is killed, not orphaned. A shell stands in for the runtime, with a
 * child in a session of its own (as runc starts a container's process, out of reach of the runtime's group) that
 * ignores SIGTERM, which the runtime would pass on and which alone would leave it running.
 */
class AbandonedStartIT {

    @TempDir
    Path work;

    @Test
    void aProcessTheRuntimeHadStartedDiesWithTheAbandonedStart() throws Exception {
        ExecFiles files = ExecFiles.create(work, "{}".getBytes(StandardCharsets.UTF_8));
        HostProcess runtime = LocalProcesses.start("/bin/sh", new ProcessSpec(List.of("/bin/sh", "-c",
                "setsid sh -c 'trap \"\" TERM; exec sleep 300' & echo $! > \"$0\"; trap '' TERM; sleep 300",
                files.pid().toString()), List.of(), "/", null, false, null, false, false, false), Clock.systemUTC());
        long started = -1;
        for (int i = 0; i < 200 && started < 0; i++) {
            started = files.readPid().orElse(-1);
            Thread.sleep(10);
        }
        assertThat(started).as("the stand-in runtime wrote its child's pid").isPositive();
        try {
            OciProcessHost.abandon(runtime, files);
            assertThat(Processes.awaitGone(started, 5_000)).as("the process the runtime had started").isTrue();
            assertThat(runtime.onExit().get(10, TimeUnit.SECONDS)).isNotNull();
        } finally {
            ProcessHandle.of(started).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}
