package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** The slots handshakes reserve: counted against both limits until used or given back, and never lost for good. */
class StreamSessionsTest {

    private static StreamProperties limits(int max, int perPrincipal) {
        return new StreamProperties(Duration.ofHours(1), Duration.ofHours(4), Duration.ZERO, Duration.ofSeconds(30),
                Duration.ofMinutes(5),
                DataSize.ofMegabytes(1),
                max, perPrincipal);
    }

    @Test
    void aReservedSlotCountsAgainstBothLimitsUntilGivenBack() {
        try (StreamSessions sessions = new StreamSessions(limits(3, 2))) {
            StreamSessions.Reservation first = sessions.reserve("alice");
            sessions.reserve("alice");
            assertThatThrownBy(() -> sessions.reserve("alice")).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_SESSIONS);
                assertThat(e.getMessage()).contains("alice holds 2", "max-sessions-per-principal");
                assertThat(e.headers().getFirst("Retry-After")).isEqualTo("1");
            });
            sessions.reserve("bob");
            assertThatThrownBy(() -> sessions.reserve("bob")).hasMessageContaining("all sessions are taken");

            sessions.release(first);
            sessions.release(first); // a second release gives nothing more back
            sessions.reserve("alice");
            assertThatThrownBy(() -> sessions.reserve("carol")).hasMessageContaining("all sessions are taken");
        }
    }

    @Test
    void aSlotNoSessionTakesIsGivenBackAfterItsTimeCountedFromTheUpgrade() throws Exception {
        try (StreamSessions sessions = new StreamSessions(limits(1, 1), Duration.ofMillis(50))) {
            StreamSessions.Reservation alice = sessions.reserve("alice");
            Thread.sleep(100);
            sessions.releaseExpired();
            assertThatThrownBy(() -> sessions.reserve("bob")).as("a handshake still deciding keeps its slot")
                    .isInstanceOf(ApiException.class);
            sessions.upgraded(alice);
            sessions.releaseExpired();
            assertThatThrownBy(() -> sessions.reserve("bob")).as("not yet expired").isInstanceOf(ApiException.class);
            Thread.sleep(100);
            sessions.releaseExpired();
            assertThat(sessions.reserve("bob")).isNotNull();
        }
    }

    /** A session whose slot expired takes one of its own, and counts against its principal like any other. */
    @Test
    void aSessionWhoseSlotExpiredCountsOnceAndOnlyIfThereIsRoom() throws Exception {
        try (StreamSessions sessions = new StreamSessions(limits(2, 1), Duration.ofMillis(10))) {
            StreamSessions.Reservation late = sessions.reserve("alice");
            sessions.upgraded(late);
            Thread.sleep(50);
            sessions.releaseExpired();
            StreamSession session = new StreamSession(null, ChannelProtocol.SUPPORTED.getFirst(), false, true, true,
                    null, Duration.ofSeconds(1));
            assertThat(sessions.add(session, late)).isTrue();
            sessions.releaseExpired(); // nothing reserved is left to expire
            assertThatThrownBy(() -> sessions.reserve("alice")).as("alice holds her one session")
                    .hasMessageContaining("alice holds 1");
            StreamSessions.Reservation bob = sessions.reserve("bob");
            assertThatThrownBy(() -> sessions.reserve("carol")).hasMessageContaining("all sessions are taken");
            sessions.release(bob);

            StreamSessions.Reservation expired = sessions.reserve("bob");
            sessions.upgraded(expired);
            Thread.sleep(50);
            sessions.releaseExpired();
            sessions.reserve("carol"); // takes the room meanwhile
            assertThat(sessions.add(new StreamSession(null, ChannelProtocol.SUPPORTED.getFirst(), false, true, true,
                    null, Duration.ofSeconds(1)), expired)).as("no room left for it").isFalse();
        }
    }
    /**
     * A client that stopped reading can hold a ping for the send timeout: the other sessions' pings go on meanwhile,
     * and that session gets no second ping stacked behind the first.
     */
    @Test
    void aPingThatCannotGoOutHoldsUpNoOtherSession() throws Exception {
        StreamProperties properties = new StreamProperties(Duration.ofMillis(50), Duration.ofHours(4), Duration.ZERO,
                Duration.ofSeconds(30), Duration.ofMinutes(5), DataSize.ofMegabytes(1), 10, 10);
        java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger stalledPings = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger healthyPings = new java.util.concurrent.atomic.AtomicInteger();
        try (StreamSessions sessions = new StreamSessions(properties)) {
            sessions.add(session("stalled", () -> {
                stalledPings.incrementAndGet();
                stalled.await(); // a full socket: the send does not return
            }), sessions.reserve("alice"));
            sessions.add(session("healthy", healthyPings::incrementAndGet), sessions.reserve("bob"));
            Thread.sleep(1000);
            assertThat(healthyPings.get()).as("pings of the healthy session in a second, one every 50 ms")
                    .isGreaterThanOrEqualTo(5);
            assertThat(stalledPings.get()).as("the stalled one's first ping is still under way").isEqualTo(1);
        } finally {
            stalled.countDown();
        }
    }

    private interface Send {
        void run() throws Exception;
    }

    /** A session over a WebSocket connection that only answers what a ping needs; {@code ping} is the send. */
    private static StreamSession session(String id, Send ping) {
        org.springframework.web.socket.WebSocketSession connection = (org.springframework.web.socket.WebSocketSession)
                java.lang.reflect.Proxy.newProxyInstance(StreamSessionsTest.class.getClassLoader(),
                        new Class<?>[] {org.springframework.web.socket.WebSocketSession.class}, (proxy, method, args) ->
                                switch (method.getName()) {
                                    case "getId" -> id;
                                    case "isOpen" -> true;
                                    case "sendMessage" -> {
                                        assertThat(args[0]).isInstanceOf(org.springframework.web.socket.PingMessage.class);
                                        ping.run();
                                        yield null;
                                    }
                                    case "hashCode" -> System.identityHashCode(proxy);
                                    case "equals" -> proxy == args[0];
                                    default -> throw new UnsupportedOperationException(method.getName());
                                });
        return new StreamSession(connection, ChannelProtocol.SUPPORTED.getFirst(), false, true, true, null,
                Duration.ofSeconds(30));
    }
}
