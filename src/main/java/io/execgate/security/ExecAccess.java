package io.execgate.security;

import java.util.function.Supplier;

import io.execgate.exec.ExecService;
import io.execgate.host.TargetKind;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.authorization.AuthorityAuthorizationManager;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;

/**
 * Controls on an existing exec (signal, resize, close stdin, delete, attach) are authorised like creating it:
 * by the kind of its target, not by the HTTP verb. Host execs need {@code admin}, others {@code operator}.
 */
final class ExecAccess implements AuthorizationManager<RequestAuthorizationContext> {

    private final ExecService execs;
    private final AuthorityAuthorizationManager<RequestAuthorizationContext> admin;
    private final AuthorityAuthorizationManager<RequestAuthorizationContext> operator;

    ExecAccess(ExecService execs, RoleHierarchy hierarchy) {
        this.execs = execs;
        this.admin = AuthorityAuthorizationManager.hasRole(Role.ADMIN.name());
        this.operator = AuthorityAuthorizationManager.hasRole(Role.OPERATOR.name());
        admin.setRoleHierarchy(hierarchy);
        operator.setRoleHierarchy(hierarchy);
    }

    @Override
    public AuthorizationResult authorize(Supplier<? extends Authentication> authentication,
            RequestAuthorizationContext context) {
        String id = context.getVariables().get("id");
        boolean onHost = id != null && execs.find(id).map(e -> e.target().kind() == TargetKind.HOST).orElse(false);
        return (onHost ? admin : operator).authorize(authentication, context);
    }
}
