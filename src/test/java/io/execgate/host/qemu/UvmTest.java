package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One VM's life against a stand-in for QEMU (a script), where its order matters. */
class UvmTest {

    @TempDir
    Path dir;

    /**
     * A stop that comes before the boot thread has started QEMU (a DELETE right after the create) returns only
     * once the QEMU that thread then starts is gone: until then the VM keeps its place under max-uvms.
     */
    @Test
    void aStopBeforeQemuStartsWaitsForThatQemuAndItsEnd() throws Exception {
        Path qemu = Files.writeString(dir.resolve("fake-qemu"), "#!/bin/sh\nwhile :; do sleep 0.2; done\n");
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwx------"));
        Path vm = Files.createDirectory(dir.resolve("vm"));
        Uvm uvm = new Uvm("early", 256, 1, QemuCommandLine.choose("auto", false, OptionalLong.empty()), vm, 4096,
                Clock.systemUTC());

        Thread stopping = Thread.ofPlatform().start(() -> uvm.stop(Duration.ofSeconds(10)));
        stopping.join(Duration.ofMillis(500));
        assertThat(stopping.isAlive()).as("the stop waits for the boot thread's start of QEMU").isTrue();

        Thread booting = Thread.ofPlatform().start(() -> uvm.boot(qemu, null, dir.resolve("vmlinuz"),
                dir.resolve("initrd.img"), Duration.ofSeconds(30), Duration.ofSeconds(5)));
        stopping.join(Duration.ofSeconds(30));
        assertThat(stopping.isAlive()).as("the stop has returned").isFalse();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(qemu.toString())))
                .as("the QEMU the boot thread started, once the stop returned").isEmpty();
        booting.join(Duration.ofSeconds(30));
        assertThat(booting.isAlive()).isFalse();
        assertThat(uvm.info().state()).isEqualTo("stopped");
        assertThat(vm).doesNotExist();
    }
}
