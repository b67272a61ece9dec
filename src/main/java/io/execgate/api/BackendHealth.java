package io.execgate.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.execgate.host.BackendStatus;
import io.execgate.host.Targets;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code /actuator/health/backends}: one indicator per backend. A backend that worked at start and fails its check
 * now is DOWN (the readiness group includes this, so traffic stops); one that was never available here (HCS on
 * Linux) is UNKNOWN, which does not bring the service down.
 */
@Configuration(proxyBeanMethods = false)
class BackendHealth {

    @Bean
    HealthContributor backends(Targets targets) {
        List<BackendStatus> atStart = targets.backends();
        Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
        for (int i = 0; i < atStart.size(); i++) {
            int index = i;
            BackendStatus start = atStart.get(i);
            indicators.put(start.name() + "-" + start.kind().value(), () -> {
                if (!start.available()) {
                    return Health.unknown().withDetail("detail", start.detail()).build();
                }
                BackendStatus now = targets.check(index);
                return (now.available() ? Health.up() : Health.down()).withDetail("detail", now.detail()).build();
            });
        }
        return CompositeHealthContributor.fromMap(indicators);
    }
}
