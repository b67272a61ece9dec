package io.execgate.stream;

import java.util.List;

import io.execgate.exec.ExecService;
import io.execgate.security.SecurityProperties;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.ServletWebSocketHandlerRegistry;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.support.DefaultHandshakeHandler;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;
import tools.jackson.databind.json.JsonMapper;

/**
 * The stream endpoints: {@code /api/v1/execs/{id}/attach} and the one-step {@code /api/v1/host/exec},
 * {@code /api/v1/containers/{id}/exec}, {@code /api/v1/uvms/{id}/exec}. Browsers may open them from the service's
 * own pages and from {@code execgate.security.allowed-origins}; clients without an Origin header are not browsers
 * and pass (they are authenticated like any request).
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
@EnableConfigurationProperties(StreamProperties.class)
class StreamConfiguration implements WebSocketConfigurer {

    private final ExecService execs;
    private final StreamProperties properties;
    private final StreamSessions sessions;
    private final JsonMapper json;
    private final SecurityProperties security;

    StreamConfiguration(ExecService execs, StreamProperties properties, StreamSessions sessions, JsonMapper json,
            SecurityProperties security) {
        this.execs = execs;
        this.properties = properties;
        this.sessions = sessions;
        this.json = json;
        this.security = security;
    }

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        DefaultHandshakeHandler handshake = new DefaultHandshakeHandler() {
            @Override
            protected @Nullable String selectProtocol(List<String> requested, WebSocketHandler handler) {
                // Spring splits the offer at commas only when it came on one line: with several lines, one of them
                // "v5.channel.k8s.io, v4.channel.k8s.io", the 101 would name no protocol while the session spoke v5.
                return super.selectProtocol(ChannelProtocol.offered(requested), handler);
            }
        };
        handshake.setSupportedProtocols(ChannelProtocol.SUPPORTED.toArray(String[]::new));
        // Same origin, plus execgate.security.allowed-origins: the security chain's WebSocketOriginFilter refuses
        // other pages before any handshake code runs; Spring's own check here is a second line.
        String[] origins = security.allowedOrigins().toArray(String[]::new);
        if (registry instanceof ServletWebSocketHandlerRegistry servlet) {
            // Before the controllers' mapping, which would otherwise match every handshake against all of its
            // patterns first: none of these paths is a controller's.
            servlet.setOrder(Ordered.HIGHEST_PRECEDENCE);
        }
        registry.addHandler(new ExecStreamHandler(execs, sessions, json, properties.sendTimeout(),
                properties.stdinTimeout(), properties.maxMessageSize().toBytes()),
                        "/api/v1/execs/*/attach", "/api/v1/host/exec", "/api/v1/containers/*/exec", "/api/v1/uvms/*/exec")
                .setHandshakeHandler(handshake)
                .setAllowedOriginPatterns(origins)
                .addInterceptors(new ExecHandshake(execs, sessions, json));
    }

    @Bean(destroyMethod = "close")
    static StreamSessions streamSessions(StreamProperties properties) {
        return new StreamSessions(properties);
    }

    /**
     * Tomcat allocates its message buffer for every session up front, so a session costs this much heap: messages
     * come in parts of at most this size ({@link ExecStreamHandler} takes parts), and the handler enforces
     * {@code max-message-size} itself (1009).
     */
    static final int PART_BUFFER = 16 * 1024;

    @Bean
    static ServletServerContainerFactoryBean webSocketContainer(StreamProperties properties) {
        ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
        container.setMaxBinaryMessageBufferSize((int) Math.min(PART_BUFFER, properties.maxMessageSize().toBytes() + 1));
        container.setMaxTextMessageBufferSize(1024); // text is refused anyway (1003)
        container.setMaxSessionIdleTimeout(0L); // idle sessions are StreamSessions' business: pings must not count
        return container;
    }

    @Bean
    static KeptBackgroundThread keptBackgroundThread() {
        return new KeptBackgroundThread();
    }

    @Bean
    static FilterRegistrationBean<NoDeflateFilter> noDeflateFilter() {
        FilterRegistrationBean<NoDeflateFilter> registration = new FilterRegistrationBean<>(new NoDeflateFilter());
        registration.addUrlPatterns("/api/*");
        return registration;
    }
}
