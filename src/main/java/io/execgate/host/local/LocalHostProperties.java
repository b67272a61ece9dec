package io.execgate.host.local;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * {@code execgate.backends.local.*}: the service's own host as a target.
 *
 * @param enabled     offer the host as a target at all
 * @param environment the environment every host exec starts from ({@code KEY=VALUE}); the service's own
 *                    environment is never passed on, because it holds the service's secrets
 * @param workingDir  the working directory of execs that do not name one
 */
@Validated
@ConfigurationProperties("execgate.backends.local")
public record LocalHostProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        List<@Pattern(regexp = "[^=\\x00]+=[^\\x00]*", message = "must be KEY=VALUE") String> environment,
        @DefaultValue("/") @NotNull @Pattern(regexp = "/.*", message = "must be an absolute path") String workingDir) {
}
