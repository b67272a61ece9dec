package io.execgate.security;

import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.security.*}.
 *
 * @param tokens          bearer tokens by the SHA-256 of the token (hex), never the token itself
 * @param adminToken      one more token, with the admin role, given as is (for {@code EXECGATE_SECURITY_ADMIN_TOKEN});
 *                        with no token at all and no JWT issuer, the service makes one (see the README)
 * @param allowedOrigins  origins besides the service's own whose pages may open WebSocket streams
 *                        ({@code https://console.example.com}, patterns such as {@code https://*.example.com})
 * @param rolesClaim      the JWT claim that lists a principal's roles, when JWTs are accepted
 * @param maxRequestBody  the largest request body accepted (413 beyond)
 */
@Validated
@ConfigurationProperties("execgate.security")
public record SecurityProperties(
        @DefaultValue({}) List<@Valid TokenEntry> tokens,
        @Nullable @Pattern(regexp = "|" + SecurityProperties.TOKEN_SYNTAX, message = SecurityProperties.TOKEN_RULE)
        String adminToken,
        @DefaultValue({}) List<String> allowedOrigins,
        @DefaultValue("roles") @NotBlank String rolesClaim,
        @DefaultValue("4MB") DataSize maxRequestBody) {

    /**
     * What a bearer token may be: RFC 6750's {@code b64token}, the only form Spring's header resolver takes (any
     * other character, {@code !} or {@code #}, gets every request a 401), and at least 16 characters.
     */
    static final String TOKEN_SYNTAX = "[A-Za-z0-9._~+/-]{16,}=*";
    static final String TOKEN_RULE = "must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (a bearer token's "
            + "characters), with = only at the end";

    /**
     * One configured token.
     *
     * @param name   the principal's name in logs and the audit trail
     * @param sha256 the token's SHA-256, 64 hex digits ({@code printf %s "$TOKEN" | sha256sum})
     * @param roles  {@code metrics} (scrapes {@code /actuator/prometheus}, nothing else), {@code viewer},
     *               {@code operator}, {@code admin}
     */
    public record TokenEntry(
            @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}", message = "must be 1 to 64 letters, digits or ._@-") String name,
            @Pattern(regexp = "[0-9a-fA-F]{64}", message = "must be the token's SHA-256 as 64 hex digits") String sha256,
            @NotEmpty List<Role> roles) {
    }
}
