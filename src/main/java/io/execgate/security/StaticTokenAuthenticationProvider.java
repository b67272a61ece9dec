package io.execgate.security;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;

/** Authenticates a bearer token against the configured tokens. */
final class StaticTokenAuthenticationProvider implements AuthenticationProvider {

    private final StaticTokens tokens;

    StaticTokenAuthenticationProvider(StaticTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String token = ((BearerTokenAuthenticationToken) authentication).getToken();
        StaticTokens.Principal principal = tokens.authenticate(token)
                .orElseThrow(() -> new InvalidBearerTokenException("the bearer token is not valid"));
        return UsernamePasswordAuthenticationToken.authenticated(principal.name(), null,
                principal.roles().stream().map(Role::authority).toList());
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return BearerTokenAuthenticationToken.class.isAssignableFrom(authentication);
    }

}
