package io.execgate.security;

import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * What a principal may do, each role including the ones below it: {@code metrics} only scrapes
 * {@code /actuator/prometheus} (a monitoring system's token reads no command line and no output), {@code viewer}
 * reads, {@code operator} also runs and controls execs in containers and UVMs, {@code admin} also on the host.
 */
public enum Role {
    METRICS, VIEWER, OPERATOR, ADMIN;

    /** The authority Spring Security checks: {@code ROLE_ADMIN}. */
    public GrantedAuthority authority() {
        return new SimpleGrantedAuthority("ROLE_" + name());
    }

    /** The role's name in a JWT's roles claim: exactly {@code metrics}, {@code viewer}, {@code operator} or {@code admin}. */
    public String claimName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses {@code metrics}, {@code viewer}, {@code operator}, {@code admin} (any case), as configuration does. */
    public static Role parse(String value) {
        return valueOf(value.strip().toUpperCase(java.util.Locale.ROOT));
    }
}
