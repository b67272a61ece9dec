package io.execgate.security;

import io.execgate.exec.Caller;
import io.execgate.exec.CallerResolver;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/** The caller of the current request: the authenticated principal and the client's address. */
final class RequestCallers implements CallerResolver {

    @Override
    public Caller current() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        String principal = authentication != null && authentication.isAuthenticated() ? authentication.getName() : "anonymous";
        String remote = RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes servlet
                ? servlet.getRequest().getRemoteAddr() : null;
        String adminAuthority = Role.ADMIN.authority().getAuthority();
        boolean admin = authentication != null
                && authentication.getAuthorities().stream().anyMatch(a -> adminAuthority.equals(a.getAuthority()));
        return authentication == null && remote == null ? Caller.SERVICE : new Caller(principal, remote, admin);
    }
}
