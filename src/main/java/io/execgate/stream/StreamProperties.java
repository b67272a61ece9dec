package io.execgate.stream;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * {@code execgate.stream.*}: WebSocket sessions.
 *
 * @param pingInterval   how often a ping goes to every session (keeps proxies and load balancers from
 *                       dropping quiet sessions)
 * @param idleTimeout    a session with no data either way for this long is closed; 0 never
 * @param pongTimeout    a session whose client has answered a ping with nothing (no pong, no message) for this long,
 *                       and has taken no output meanwhile, is closed: a client that vanished without closing its
 *                       connection (a sleeping laptop, a cut network) does not keep its exec for the quarter of an
 *                       hour TCP takes to give up; 0 never
 * @param sendTimeout    a client that takes no output for this long is disconnected (its exec is not held up longer);
 *                       a send is timed whole, so in a flood (1 MiB messages) so is a client slower than 1 MiB in it
 * @param stdinTimeout   a client whose stdin the process takes none of for this long (with 1 MiB queued) is closed
 *                       with 1008; long, since a bulk import may pause for a slow statement, as Kubernetes never
 *                       closes such a stream at all
 * @param maxMessageSize the largest message a client may send (stdin chunks, resizes); larger closes with 1009
 * @param maxSessions    how many sessions may be open at once; beyond, the handshake answers 429
 * @param maxSessionsPerPrincipal how many of them one principal (token, user) may hold, so that one client
 *                       cannot take every session from the others
 */
@Validated
@ConfigurationProperties("execgate.stream")
public record StreamProperties(
        @DefaultValue("20s") Duration pingInterval,
        @DefaultValue("4h") Duration idleTimeout,
        @DefaultValue("60s") Duration pongTimeout,
        @DefaultValue("30s") Duration sendTimeout,
        @DefaultValue("5m") Duration stdinTimeout,
        @DefaultValue("1MB") DataSize maxMessageSize,
        @DefaultValue("256") @Min(1) @Max(100_000) int maxSessions,
        @DefaultValue("128") @Min(1) @Max(100_000) int maxSessionsPerPrincipal) {

    @AssertTrue(message = "ping-interval, send-timeout and stdin-timeout must be positive, idle-timeout and "
            + "pong-timeout not negative")
    boolean isDurationsValid() {
        return pingInterval.isPositive() && sendTimeout.isPositive() && stdinTimeout.isPositive()
                && !idleTimeout.isNegative() && !pongTimeout.isNegative();
    }

    @AssertTrue(message = "pong-timeout must be 0 or longer than ping-interval (a ping must have had its answer time)")
    boolean isPongTimeoutValid() {
        return pongTimeout.isZero() || pongTimeout.compareTo(pingInterval) > 0;
    }

    @AssertTrue(message = "max-message-size must be between 1KB and 64MB")
    boolean isMaxMessageSizeValid() {
        return maxMessageSize.toBytes() >= 1024 && maxMessageSize.toBytes() <= DataSize.ofMegabytes(64).toBytes();
    }
}
