package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import io.execgate.DataDirectory;
import io.execgate.host.UvmLifecycle.Refusal;
import io.execgate.support.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * The provider's bookkeeping against a stand-in for QEMU: a script that ignores SIGTERM, so that stopping it takes
 * the SIGTERM, the wait after it and the SIGKILL, about two seconds in which the VM is neither gone nor usable.
 */
class QemuUvmProviderTest {

    @TempDir
    Path dir;
    DataDirectory data;

    @AfterEach
    void letGo() {
        if (data != null) {
            data.close();
        }
    }

    @Test
    void aVmBeingDeletedStillCountsTowardMaxUvmsAndHoldsItsIdButIsNoLongerListed() throws Exception {
        QemuUvmProvider provider = provider(1);
        assumeTrue(provider.status().available(), () -> "skipped: " + provider.status().detail());
        Thread deleting = null;
        try {
            provider.create("a", null, null);
            long qemu = awaitPid(provider, "a");
            deleting = Thread.ofPlatform().start(() -> provider.delete("a"));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!provider.list().isEmpty()) {
                assertThat(System.nanoTime()).as("DELETE hides the VM").isLessThan(deadline);
                Thread.sleep(10);
            }
            assertThat(deleting.isAlive()).as("QEMU is still being stopped").isTrue();
            assertThat(provider.describe("a")).isEmpty();
            assertThat(provider.open("a")).isEmpty();
            assertThatExceptionOfType(Refusal.class).as("max-uvms counts the VM being deleted")
                    .isThrownBy(() -> provider.create("b", null, null))
                    .satisfies(refusal -> assertThat(refusal.kind()).isEqualTo(Refusal.Kind.LIMIT))
                    .withMessageContaining("1 of them still being deleted");
            assertThatExceptionOfType(Refusal.class).as("its id is still taken")
                    .isThrownBy(() -> provider.create("a", null, null))
                    .satisfies(refusal -> assertThat(refusal.kind()).isEqualTo(Refusal.Kind.CONFLICT))
                    .withMessageContaining("still being deleted");
            assertThat(provider.delete("a")).as("a second DELETE finds nothing to delete").isFalse();

            deleting.join(Duration.ofSeconds(30));
            assertThat(deleting.isAlive()).isFalse();
            assertThat(Processes.isGone(qemu)).isTrue();
            provider.create("a", null, null); // once stopped, the id and the place are free
            awaitPid(provider, "a");
        } finally {
            provider.close();
            if (deleting != null) {
                deleting.join(Duration.ofSeconds(30));
            }
        }
        try (var left = Files.list(dir.resolve("data/uvm"))) {
            assertThat(left).as("VM directories after close").isEmpty();
        }
    }

    private QemuUvmProvider provider(int maxUvms) throws Exception {
        Path qemu = Files.writeString(dir.resolve("fake-qemu"), """
                #!/bin/sh
                # QEMU that never boots and ignores SIGTERM (so do the sleeps it starts)
                trap '' TERM
                while :; do sleep 0.2; done
                """);
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwx------"));
        Path image = Files.createDirectories(dir.resolve("image"));
        Files.createFile(image.resolve("vmlinuz"));
        Files.createFile(image.resolve("initrd.img"));
        QemuProperties properties = new QemuProperties(true, qemu.toString(), image, maxUvms, DataSize.ofMegabytes(256),
                1, Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(5),
                DataSize.ofKilobytes(64), "auto");
        data = DataDirectory.lock(dir.resolve("data"));
        return new QemuUvmProvider(properties, data);
    }

    private static long awaitPid(QemuUvmProvider provider, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Long pid = provider.describe(id).orElseThrow().pid();
            if (pid != null) {
                return pid;
            }
            assertThat(System.nanoTime()).as("QEMU started").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
