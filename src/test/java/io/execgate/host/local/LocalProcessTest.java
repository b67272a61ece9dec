package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import org.junit.jupiter.api.Test;

class LocalProcessTest {

    @Test
    void aSpawnThatFailsWhereTheWorkingDirectoryCannotBeEnteredBlamesTheDirectoryNotTheProgram(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var enoent = new PosixSpawner.SpawnException(2, "No such file or directory");
        // The directory went between the check and the spawn: posix_spawn's chdir failed, with execve's errno
        var gone = LocalProcessHost.spawnFailure("ls", dir.resolve("removed"), enoent);
        assertThat(gone.kind()).isEqualTo(io.execgate.host.StartFailure.Kind.BAD_WORKING_DIR);
        assertThat(gone.getMessage()).contains("working directory", "removed");
        // The directory is there: the program is what is missing
        var missing = LocalProcessHost.spawnFailure("no-such-program", dir, enoent);
        assertThat(missing.kind()).isEqualTo(io.execgate.host.StartFailure.Kind.EXECUTABLE_NOT_FOUND);
        var denied = LocalProcessHost.spawnFailure("./script", dir, new PosixSpawner.SpawnException(13, "Permission denied"));
        assertThat(denied.kind()).isEqualTo(io.execgate.host.StartFailure.Kind.NOT_EXECUTABLE);
    }

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void decodesWaitStatusesAsTheWaitMacrosDo() {
        assertThat(LocalProcess.decode(0, NOW)).isEqualTo(ExitStatus.exited(0, NOW));
        assertThat(LocalProcess.decode(3 << 8, NOW)).isEqualTo(ExitStatus.exited(3, NOW));
        assertThat(LocalProcess.decode(255 << 8, NOW)).isEqualTo(ExitStatus.exited(255, NOW));
        ExitStatus killed = LocalProcess.decode(9, NOW);
        assertThat(killed.signal()).isEqualTo("SIGKILL");
        assertThat(killed.exitCode()).isEqualTo(137);
        assertThat(killed.reason()).isEqualTo(ExitReason.KILLED);
        ExitStatus dumped = LocalProcess.decode(0x80 | 11, NOW); // core dumped: the 0x80 bit is not part of the signal
        assertThat(dumped.signal()).isEqualTo("SIGSEGV");
        assertThat(dumped.exitCode()).isEqualTo(139);
        ExitStatus glibcs = LocalProcess.decode(33, NOW); // glibc's own: no name in kill -l, but a process can die of it
        assertThat(glibcs.signal()).isEqualTo("SIG33");
        assertThat(glibcs.exitCode()).isEqualTo(161);
        assertThat(glibcs.reason()).isEqualTo(ExitReason.KILLED);
    }
}
