package io.execgate.host.qemu;

import java.nio.file.Path;
import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.backends.qemu.*}: utility VMs execgate boots itself.
 *
 * @param enabled         offer QEMU UVMs at all; the backend is used only when QEMU and the image are found
 * @param binary          QEMU, by name (looked up in the service's {@code PATH}) or absolute path
 * @param imageDir        where {@code uvm/build-image} put {@code vmlinuz} and {@code initrd.img}
 * @param maxUvms         how many UVMs may exist at once (each holds about 230 MB)
 * @param memory          a UVM's memory when the request names none
 * @param cpus            a UVM's virtual CPUs when the request names none
 * @param bootTimeout     how long a UVM may take from starting QEMU to its agent's first answer
 * @param stopGracePeriod how long a UVM has to power off after {@code DELETE} before QEMU is killed
 * @param startTimeout    how long the agent may take to start a command
 * @param keepalive       how often the agent is pinged; three missed answers end the UVM's execs as lost
 * @param consoleLogSize  how much of a UVM's serial console is kept (the newest bytes)
 * @param machine         {@code microvm}, {@code q35}, or {@code auto}: microvm when the host's TSC frequency is
 *                        known (the guest needs it to calibrate its clock), q35 otherwise
 */
@Validated
@ConfigurationProperties("execgate.backends.qemu")
public record QemuProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("qemu-system-x86_64") @NotBlank String binary,
        @DefaultValue("target/uvm-image") @NotNull Path imageDir,
        @DefaultValue("4") @Min(1) @Max(64) int maxUvms,
        @DefaultValue("256MB") @NotNull DataSize memory,
        @DefaultValue("1") @Min(1) @Max(16) int cpus,
        @DefaultValue("60s") @NotNull Duration bootTimeout,
        @DefaultValue("10s") @NotNull Duration stopGracePeriod,
        @DefaultValue("10s") @NotNull Duration startTimeout,
        @DefaultValue("5s") @NotNull Duration keepalive,
        @DefaultValue("64KB") @NotNull DataSize consoleLogSize,
        @DefaultValue("auto") @NotBlank String machine) {
}
