package io.execgate.upstream;

import java.time.Duration;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.upstream.*}: tying execs' streams to pipes and logging drivers.
 *
 * @param namespace          {@code CONTAINER_NAMESPACE} for logging drivers (containerd passes its namespace)
 * @param connectTimeout     how long an exec's stdout and stderr pipes together may wait for their readers when
 *                           it starts, and a {@code listen} exec for its client, before the start fails
 * @param driverReadyTimeout how long a logging driver may take to open and close its wait pipe
 * @param driverStopTimeout  how long a logging driver may take to exit once the exec's output has ended, before
 *                           it is killed
 */
@Validated
@ConfigurationProperties("execgate.upstream")
public record UpstreamProperties(
        @DefaultValue("execgate") @NotBlank String namespace,
        @DefaultValue("10s") @NotNull Duration connectTimeout,
        @DefaultValue("10s") @NotNull Duration driverReadyTimeout,
        @DefaultValue("10s") @NotNull Duration driverStopTimeout) {
}
