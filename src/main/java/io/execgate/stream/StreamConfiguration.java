package io.execgate.stream;

import io.execgate.exec.ExecService;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.support.DefaultHandshakeHandler;
import org.springframework.web.socket.server.support.OriginHandshakeInterceptor;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;
import tools.jackson.databind.json.JsonMapper;

/**
 * The stream endpoints: {@code /api/v1/execs/{id}/attach} and the one-step {@code /api/v1/host/exec},
 * {@code /api/v1/containers/{id}/exec}, {@code /api/v1/uvms/{id}/exec}. Same-origin handshakes only (Spring's
 * default when no origins are configured); clients without an Origin header are not browsers and pass.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
@EnableConfigurationProperties(StreamProperties.class)
class StreamConfiguration implements WebSocketConfigurer {

    private final ExecService execs;
    private final StreamProperties properties;
    private final StreamSessions sessions;
    private final JsonMapper json;

    StreamConfiguration(ExecService execs, StreamProperties properties, StreamSessions sessions, JsonMapper json) {
        this.execs = execs;
        this.properties = properties;
        this.sessions = sessions;
        this.json = json;
    }

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        DefaultHandshakeHandler handshake = new DefaultHandshakeHandler();
        handshake.setSupportedProtocols(ChannelProtocol.SUPPORTED.toArray(String[]::new));
        registry.addHandler(new ExecStreamHandler(execs, sessions, json, properties.sendTimeout()),
                        "/api/v1/execs/*/attach", "/api/v1/host/exec", "/api/v1/containers/*/exec", "/api/v1/uvms/*/exec")
                .setHandshakeHandler(handshake)
                // The origin check must come before ExecHandshake, which starts the one-step exec (Spring would
                // add its own origin check after the interceptors given here).
                .addInterceptors(new OriginHandshakeInterceptor(), new ExecHandshake(execs, sessions, json));
    }

    @Bean(destroyMethod = "close")
    static StreamSessions streamSessions(StreamProperties properties) {
        return new StreamSessions(properties);
    }

    /** Inbound messages up to {@code max-message-size} (Tomcat's default is 8 KiB); larger ones close with 1009. */
    @Bean
    static ServletServerContainerFactoryBean webSocketContainer(StreamProperties properties) {
        ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
        // One byte more than the limit, for the channel byte. Tomcat allocates these buffers for every session.
        container.setMaxBinaryMessageBufferSize((int) properties.maxMessageSize().toBytes() + 1);
        container.setMaxTextMessageBufferSize(1024); // text is refused anyway (1003)
        container.setMaxSessionIdleTimeout(0L); // idle sessions are StreamSessions' business: pings must not count
        return container;
    }

    @Bean
    static FilterRegistrationBean<NoDeflateFilter> noDeflateFilter() {
        FilterRegistrationBean<NoDeflateFilter> registration = new FilterRegistrationBean<>(new NoDeflateFilter());
        registration.addUrlPatterns("/api/*");
        return registration;
    }
}
