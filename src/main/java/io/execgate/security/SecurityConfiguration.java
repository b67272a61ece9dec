package io.execgate.security;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import io.execgate.DataDirectory;
import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.api.RequestBodyLimit;
import io.execgate.exec.CallerResolver;
import io.execgate.exec.ExecService;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.access.hierarchicalroles.RoleHierarchyImpl;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.core.env.Environment;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.header.writers.ContentSecurityPolicyHeaderWriter;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every request but health needs a bearer token; what it may do depends on its roles and, for execs, on the kind
 * of target. Bearer tokens only: no sessions, no cookies, so no CSRF to defend against.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SecurityProperties.class)
class SecurityConfiguration {

    private static final String AUDIENCES = "spring.security.oauth2.resourceserver.jwt.audiences";

    /** The console: its two pages, its scripts and styles, and the vendored xterm.js. */
    private static final String[] CONSOLE_PAGES = {"/", "/index.html", "/terminal.html", "/console/**"};
    /**
     * The console runs only its own scripts and talks only to this service (its API and WebSocket streams).
     * Styles may be inline: xterm.js sizes its rows with a style element.
     */
    static final String CONSOLE_POLICY = "default-src 'self'; script-src 'self'; connect-src 'self'; "
            + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";

    /**
     * With the actuator's ObservationRegistry present, Spring Security wraps each of its filters, the
     * authentication and the authorization in an observation of its own: about a fifth of a request's CPU here,
     * on every exec. Requests are still observed once, as {@code http.server.requests}.
     */
    @Bean
    static SecurityObservationSettings securityObservationSettings() {
        return SecurityObservationSettings.noObservations();
    }

    /**
     * URLs the firewall turns down (a {@code //}, an encoded dot or slash, a {@code ;}) answer 400 with a problem
     * document that says why, and an audit line, instead of the container's error page.
     */
    @Bean
    RequestRejectedHandler requestRejectedHandler(JsonMapper json, ExecAuditLog execAuditLog) {
        ProblemSecurityHandlers problems = new ProblemSecurityHandlers(json, execAuditLog);
        // The firewall's reasons for a URL name the string at fault; for a header or parameter they quote its
        // value, which may be a token: those get a detail of their own.
        return (request, response, rejected) -> problems.refuse(request, response, new ApiException(
                ErrorCode.INVALID_REQUEST, String.valueOf(rejected.getMessage()).contains("the URL")
                        ? rejected.getMessage() : "the request was rejected: a header or parameter is not allowed"));
    }

    /** Each role includes the ones below it; {@code metrics}, the lowest, may only scrape. */
    @Bean
    RoleHierarchy roleHierarchy() {
        return RoleHierarchyImpl.fromHierarchy(
                "ROLE_ADMIN > ROLE_OPERATOR\nROLE_OPERATOR > ROLE_VIEWER\nROLE_VIEWER > ROLE_METRICS");
    }

    /** The configured tokens, the admin token, and, when nothing is configured at all, a generated admin token. */
    @Bean
    StaticTokens staticTokens(SecurityProperties security, DataDirectory data, ObjectProvider<JwtDecoder> jwt) {
        List<StaticTokens.Principal> principals = new ArrayList<>();
        List<String> plain = new ArrayList<>();
        String admin = security.adminToken();
        if ((admin == null || admin.isBlank()) && security.tokens().isEmpty() && jwt.getIfAvailable() == null) {
            admin = AdminTokenFile.readOrCreate(data.path());
        }
        if (admin != null && !admin.isBlank()) {
            principals.add(new StaticTokens.Principal(StaticTokens.ADMIN, Set.of(Role.ADMIN)));
            plain.add(admin.strip());
        }
        return StaticTokens.of(security.tokens(), principals, plain);
    }

    @Bean
    AuthenticationProvider staticTokenAuthentication(StaticTokens tokens) {
        return new StaticTokenAuthenticationProvider(tokens);
    }

    /** Static tokens first; JWTs too when an issuer or a JWK set is configured. */
    @Bean
    AuthenticationManager bearerAuthentication(AuthenticationProvider staticTokenAuthentication,
            ObjectProvider<JwtDecoder> jwt, SecurityProperties security, Environment environment) {
        List<AuthenticationProvider> providers = new ArrayList<>(List.of(staticTokenAuthentication));
        JwtDecoder decoder = jwt.getIfAvailable();
        if (decoder != null) {
            // Without an audience, any token the issuer made for any other application would do here. Bound as the
            // decoder's own list is, so that every form of a list counts: "a,b", YAML's list, audiences[0], and
            // ..._AUDIENCES_0 in the environment.
            List<String> audiences = Binder.get(environment).bind(AUDIENCES, Bindable.listOf(String.class))
                    .orElse(List.of());
            if (audiences.stream().allMatch(String::isBlank)) {
                throw new IllegalStateException("JWTs are accepted (an issuer or key is configured) but no audience is: "
                        + "set " + AUDIENCES + " to execgate's audience");
            }
            JwtAuthenticationProvider provider = new JwtAuthenticationProvider(decoder);
            // "jwt:" keeps a JWT's subject apart from a configured token of the same name (quota, audit). A token
            // without one is refused: every such caller would be the one principal "jwt:null", sharing its quota
            // and indistinguishable in the audit log.
            provider.setJwtAuthenticationConverter(token -> {
                if (token.getSubject() == null || token.getSubject().isBlank()) {
                    throw new InvalidBearerTokenException("the token has no subject (sub): execgate tells callers "
                            + "apart by it");
                }
                return new JwtAuthenticationToken(token, roles(token.getClaim(security.rolesClaim())),
                        "jwt:" + token.getSubject());
            });
            providers.add(provider);
        }
        return new ProviderManager(providers);
    }

    @Bean
    SecurityFilterChain api(HttpSecurity http, AuthenticationManager bearerAuthentication, ExecService execs,
            RoleHierarchy hierarchy, JsonMapper json, ExecAuditLog execAuditLog, SecurityProperties security)
            throws Exception {
        ProblemSecurityHandlers problems = new ProblemSecurityHandlers(json, execAuditLog);
        ExecAccess execAccess = new ExecAccess(execs, hierarchy);
        String metrics = Role.METRICS.name();
        String viewer = Role.VIEWER.name();
        String operator = Role.OPERATOR.name();
        String admin = Role.ADMIN.name();
        http.csrf(csrf -> csrf.disable())
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .httpBasic(basic -> basic.disable())
                .formLogin(form -> form.disable())
                .logout(logout -> logout.disable())
                .requestCache(cache -> cache.disable())
                .headers(headers -> headers.addHeaderWriter(new DelegatingRequestMatcherHeaderWriter(
                        consolePages(),
                        new ContentSecurityPolicyHeaderWriter(CONSOLE_POLICY))))
                .exceptionHandling(errors -> errors.authenticationEntryPoint(problems).accessDeniedHandler(problems))
                // Once the caller is known to be allowed the stream: only then does its page's origin matter.
                .addFilterAfter(new WebSocketOriginFilter(security.allowedOrigins(), problems), AuthorizationFilter.class)
                .oauth2ResourceServer(bearer -> bearer.bearerTokenResolver(new BearerTokens())
                        .authenticationManagerResolver(request -> bearerAuthentication)
                        .authenticationEntryPoint(problems).accessDeniedHandler(problems))
                .authorizeHttpRequests(requests -> requests
                        .requestMatchers(HttpMethod.GET, "/actuator/health", "/actuator/health/**").permitAll()
                        // The API's description and the page that shows it: public, the same for everyone.
                        .requestMatchers(HttpMethod.GET, "/v3/api-docs", "/v3/api-docs/**", "/v3/api-docs.yaml",
                                "/swagger-ui.html", "/swagger-ui/**").permitAll()
                        // The console's pages and scripts: public like Swagger UI; what they show comes from the API
                        // with the token the person signs in with.
                        .requestMatchers(HttpMethod.GET, CONSOLE_PAGES).permitAll()
                        .requestMatchers("/error").permitAll()
                        // What a monitoring system's token may do, and all it may: every rule below needs viewer at
                        // least, so a metrics token reads no command line, no output and opens no stream.
                        .requestMatchers(HttpMethod.GET, "/actuator/prometheus").hasRole(metrics)
                        .requestMatchers("/actuator/**").hasRole(admin)
                        // Creating, by the kind of target. The stream endpoints whatever the verb: a handshake's
                        // checks come after its interceptors, and the one-step form starts its exec there.
                        .requestMatchers(HttpMethod.POST, "/api/v1/host/execs", "/api/v1/host/execs/run").hasRole(admin)
                        .requestMatchers("/api/v1/host/exec").hasRole(admin)
                        .requestMatchers(HttpMethod.POST, "/api/v1/containers/{id}/execs", "/api/v1/containers/{id}/execs/run",
                                "/api/v1/uvms/{id}/execs", "/api/v1/uvms/{id}/execs/run").hasRole(operator)
                        .requestMatchers("/api/v1/containers/{id}/exec", "/api/v1/uvms/{id}/exec").hasRole(operator)
                        // Booting and powering off UVMs: operators'. Their consoles are read like any target's
                        // state (api.md: viewer reads), by the GET rule below.
                        .requestMatchers(HttpMethod.POST, "/api/v1/uvms").hasRole(operator)
                        .requestMatchers(HttpMethod.DELETE, "/api/v1/uvms/{id}").hasRole(operator)
                        // Controls and attaching: like creating, by the exec's target.
                        .requestMatchers("/api/v1/execs/{id}/attach").access(execAccess)
                        .requestMatchers(HttpMethod.POST, "/api/v1/execs/{id}/**").access(execAccess)
                        .requestMatchers(HttpMethod.DELETE, "/api/v1/execs/{id}").access(execAccess)
                        .requestMatchers(HttpMethod.GET, "/api/v1/**").hasRole(viewer)
                        .requestMatchers(HttpMethod.HEAD, "/api/v1/**").hasRole(viewer)
                        // What no rule above names is no handler's: every handler has a rule (SecurityIT checks
                        // that no handler that changes anything is open to a viewer), so a known path with another
                        // verb gets MVC's 405, and an unknown path its 404, not a 403 that blames the token. Callers
                        // without even the viewer role (a metrics token) get 403 here.
                        .anyRequest().hasRole(viewer));
        return http.build();
    }

    private static RequestMatcher consolePages() {
        return new OrRequestMatcher(Arrays.stream(CONSOLE_PAGES)
                .map(path -> (RequestMatcher) PathPatternRequestMatcher.withDefaults().matcher(HttpMethod.GET, path))
                .toList());
    }

    @Bean
    CallerResolver requestCallers() {
        return new RequestCallers();
    }

    @Bean
    ExecAuditLog execAuditLog(JsonMapper json) {
        return new ExecAuditLog(json);
    }

    /** Body size first of all, before anything reads a body. */
    @Bean
    FilterRegistrationBean<RequestBodyLimit> requestBodyLimit(SecurityProperties security, JsonMapper json) {
        FilterRegistrationBean<RequestBodyLimit> registration = new FilterRegistrationBean<>(
                new RequestBodyLimit(security.maxRequestBody().toBytes(), json));
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    /** A JWT's roles claim: a list, or a string of names separated by spaces or commas; unknown names are ignored. */
    static Collection<GrantedAuthority> roles(Object claim) {
        List<String> names = new ArrayList<>();
        if (claim instanceof Collection<?> list) {
            list.forEach(item -> names.add(String.valueOf(item)));
        } else if (claim instanceof String text) {
            names.addAll(List.of(text.split("[\\s,]+")));
        }
        List<GrantedAuthority> authorities = new ArrayList<>();
        for (String name : names) {
            // Exactly execgate's names: "Admin" or "ADMIN" of another application in the same token is not ours.
            for (Role role : Role.values()) {
                if (role.claimName().equals(name)) {
                    authorities.add(role.authority());
                }
            }
        }
        return authorities;
    }
}
