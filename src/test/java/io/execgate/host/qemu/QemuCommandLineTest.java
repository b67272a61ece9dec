package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuCommandLineTest {

    @TempDir
    Path dir;

    @Test
    void kvmNeedsAnOpenableDeviceAndTheCpusVirtualisationFlags() throws Exception {
        Path device = Files.createFile(dir.resolve("kvm"));
        Path vmx = Files.writeString(dir.resolve("vmx"), "processor\t: 0\nflags\t\t: fpu vme vmx sse2\n");
        Path svm = Files.writeString(dir.resolve("svm"), "flags\t\t: fpu svm\n");
        // a paravirtual /dev/kvm (kvm-pvm): the device is there, the flags are not
        Path none = Files.writeString(dir.resolve("none"), "flags\t\t: fpu vme hypervisor vmxnotaflag\n");
        assertThat(QemuCommandLine.kvmUsable(device, vmx)).isTrue();
        assertThat(QemuCommandLine.kvmUsable(device, svm)).isTrue();
        assertThat(QemuCommandLine.kvmUsable(device, none)).isFalse();
        assertThat(QemuCommandLine.kvmUsable(dir.resolve("absent"), vmx)).isFalse();
        assertThat(QemuCommandLine.kvmUsable(device, dir.resolve("no-cpuinfo"))).isFalse();
        assertThat(QemuCommandLine.choose("auto", false, java.util.OptionalLong.of(2_000_000)).accel()).isEqualTo("tcg");
    }
}
