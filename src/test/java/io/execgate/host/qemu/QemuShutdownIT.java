package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.execgate.ExecgateApplication;
import io.execgate.ExecgateProperties;
import io.execgate.exec.Exec;
import io.execgate.exec.ExecRequest;
import io.execgate.exec.ExecService;
import io.execgate.host.ExitReason;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Stopping the service powers its UVMs off: no QEMU process and no UVM directory outlive it. */
class QemuShutdownIT {

    @Test
    void theServicesShutdownLeavesNoQemuBehind() throws Exception {
        assumeTrue(Files.isRegularFile(Path.of("target/uvm-image/initrd.img")), "skipped: no UVM image (uvm/build-image)");
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ExecgateApplication.class)
                .run("--server.port=0", "--execgate.exec.kill-grace-period=1s");
        QemuUvmProvider uvms = context.getBean(QemuUvmProvider.class);
        assumeTrue(uvms.status().available(), () -> "skipped: " + uvms.status().detail());
        Path root = context.getBean(ExecgateProperties.class).dataDir().resolve("uvm");
        uvms.create("down", null, null);
        ExecService execs = context.getBean(ExecService.class);
        // An exec into a booting UVM waits for the boot.
        Exec sleeping = execs.create(new TargetRef(TargetKind.UVM, "down"),
                new ExecRequest(List.of("sleep", "600"), null, null, null, null, null, null, null, null));
        assertThat(uvms.describe("down").orElseThrow().state()).isEqualTo("running");
        long qemu = uvms.describe("down").orElseThrow().pid();
        List<Path> dirs = uvmDirs(root);
        assertThat(dirs).hasSize(1);

        context.close();

        assertThat(Processes.awaitGone(qemu, 15_000)).as("QEMU %d", qemu).isTrue();
        assertThat(sleeping.ended()).isDone();
        assertThat(sleeping.exit().reason()).isIn(ExitReason.KILLED, ExitReason.LOST);
        assertThat(dirs).allSatisfy(dir -> assertThat(dir).doesNotExist());
    }

    private static List<Path> uvmDirs(Path root) throws Exception {
        try (var all = Files.list(root)) {
            return all.toList();
        }
    }
}
