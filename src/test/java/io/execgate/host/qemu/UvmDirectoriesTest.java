package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep at start kills only a process whose command line names its directory's socket. */
class UvmDirectoriesTest {

    @TempDir
    Path data;

    @Test
    void twoRemoversAtOnceBothSucceed() throws Exception {
        // QEMU's exit and a DELETE that waited for it remove the directory at about the same time.
        for (int round = 0; round < 40; round++) {
            Path dir = data.resolve("uvm-" + round);
            Files.createDirectories(dir.resolve("sub"));
            for (int i = 0; i < 200; i++) {
                Files.writeString(dir.resolve((i % 2 == 0 ? "" : "sub/") + "f" + i), "x");
            }
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
            java.util.concurrent.Callable<Void> remove = () -> {
                together.await();
                UvmDirectories.remove(dir);
                return null;
            };
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
                var first = pool.submit(remove);
                var second = pool.submit(remove);
                first.get(10, TimeUnit.SECONDS);
                second.get(10, TimeUnit.SECONDS);
            }
            assertThat(dir).as("round %d", round).doesNotExist();
        }
        UvmDirectories.remove(data.resolve("never-made")); // nothing to remove is not an error either
    }

    @Test
    void theSweepKillsTheQemuADirectoryNamesRemovesEveryDirectoryAndSparesAReusedPid() throws Exception {
        UvmDirectories directories = new UvmDirectories(data);
        Path left = directories.create();
        Path reused = directories.create();
        Path neverStarted = directories.create();
        // Stand-ins that wait on a builtin (no child to leave behind): one with the chardev QEMU is given, one
        // with a pid recorded for another directory's QEMU that has since been reused by something else.
        Process qemu = waiting("socket,id=agent,path=" + UvmDirectories.socket(left) + ",server=on,wait=off");
        Process innocent = waiting("socket,id=agent,path=" + UvmDirectories.socket(neverStarted) + "-not,server=on");
        try {
            UvmDirectories.recordPid(left, qemu.pid());
            UvmDirectories.recordPid(reused, innocent.pid());
            assertThat(UvmDirectories.runningQemu(left)).isPresent();
            assertThat(UvmDirectories.runningQemu(reused)).isEmpty();

            directories.sweep();

            assertThat(qemu.waitFor(5, TimeUnit.SECONDS)).as("the left QEMU is killed").isTrue();
            assertThat(qemu.exitValue()).isEqualTo(128 + 9);
            assertThat(innocent.isAlive()).as("a reused pid is never killed").isTrue();
            try (var entries = Files.list(directories.root())) {
                assertThat(entries).isEmpty();
            }
        } finally {
            qemu.destroyForcibly().waitFor();
            innocent.destroyForcibly().waitFor();
        }
    }

    @Test
    void aDataDirectoryTooLongForTheAgentSocketIsRefusedWithTheLimit() throws IOException {
        UvmDirectories directories = new UvmDirectories(data.resolve("d".repeat(90)));
        assertThatIOException().isThrownBy(directories::create)
                .withMessageContaining("more than the 107 a UNIX socket's path may have")
                .withMessageContaining("execgate.data-dir");
        assertThat(directories.root()).doesNotExist();
    }

    private static Process waiting(String chardev) throws IOException {
        return new ProcessBuilder("sh", "-c", "read never", "qemu-system-x86_64", "-chardev", chardev).start();
    }
}
