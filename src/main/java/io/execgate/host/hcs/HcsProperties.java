package io.execgate.host.hcs;

import java.time.Duration;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.backends.hcs.*}: Windows containers and utility VMs through the Host Compute Service.
 *
 * @param enabled   offer HCS compute systems; unset means "when the service runs on Windows"
 * @param library   the computecore library: its name ({@code computecore}) or a path (the Linux tests' fake)
 * @param timeout   how long one HCS operation may take (hcsshim's default is four minutes)
 */
@Validated
@ConfigurationProperties("execgate.backends.hcs")
public record HcsProperties(
        @Nullable Boolean enabled,
        @DefaultValue("computecore") @NotBlank String library,
        @DefaultValue("4m") @NotNull Duration timeout) {
}
