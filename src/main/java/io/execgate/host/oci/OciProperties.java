package io.execgate.host.oci;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.backends.oci.*}: containers that an OCI runtime manages.
 *
 * @param enabled        offer containers at all; the backend is used only when the runtime binary is found
 * @param runtime        the runtime binary, by name (looked up in the service's {@code PATH}) or absolute path
 * @param roots          the runtime's state directories ({@code --root}) to list and exec in; containerd's runc
 *                       shim keeps {@code /run/containerd/runc/<namespace>}. Their last path segments must
 *                       differ: they qualify ids that appear in two roots ({@code k8s.io:abc})
 * @param startTimeout   how long the runtime may take to start an exec's process before it is killed
 * @param commandTimeout how long a {@code list} or {@code state} may take
 * @param outputGrace    how long processes an exec's command left running may hold its output after the command
 *                       exited, before they are killed (runc waits for them before it reports the exit)
 * @param rememberedContainers how many running containers the backend remembers between execs (the runtime's
 *                       state and the {@code config.json} process, trusted while a pidfd shows the container's init
 *                       alive), so that an exec skips the runtime's {@code state} call; each holds three
 *                       descriptors. 0 asks the runtime for every exec
 */
@Validated
@ConfigurationProperties("execgate.backends.oci")
public record OciProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("runc") @NotBlank String runtime,
        @DefaultValue("/run/runc") @NotEmpty List<@NotNull Path> roots,
        @DefaultValue("30s") @NotNull Duration startTimeout,
        @DefaultValue("10s") @NotNull Duration commandTimeout,
        @DefaultValue("2s") @NotNull Duration outputGrace,
        @DefaultValue("128") @Min(0) @Max(4096) int rememberedContainers) {
}
