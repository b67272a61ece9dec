package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.execgate.exec.StdStream;
import io.execgate.host.ExitStatus;
import org.junit.jupiter.api.Test;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.WebSocketSession;
import tools.jackson.databind.json.JsonMapper;

/** What goes out on one client's connection, in which order, when sends race the end. */
class StreamSessionTest {

    /** Sends and closes as the connection saw them; Tomcat, like this one, still takes sends after a close. */
    private final List<String> wire = new CopyOnWriteArrayList<>();
    private final CountDownLatch statusMayGo = new CountDownLatch(1);
    private final WebSocketSession connection = (WebSocketSession) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {WebSocketSession.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getId" -> "s1";
                case "isOpen" -> true;
                case "sendMessage" -> {
                    ByteBuffer payload = ((BinaryMessage) args[0]).getPayload();
                    int channel = payload.get(0);
                    if (channel == ChannelProtocol.STATUS) {
                        statusMayGo.await(10, TimeUnit.SECONDS); // a slow send of the status
                    }
                    wire.add("channel " + channel);
                    yield null;
                }
                case "close" -> {
                    wire.add("close");
                    yield null;
                }
                default -> null;
            });

    @Test
    void outputWaitingBehindTheStatusIsNotSentAfterTheClose() throws Exception {
        StreamSession session = new StreamSession(connection, ChannelProtocol.V5, false, true, true,
                JsonMapper.builder().build(), Duration.ofSeconds(5));
        Thread ending = Thread.ofPlatform().start(() -> session.ended(ExitStatus.exited(0, Instant.now())));
        awaitWaiting(ending); // holds the send lock, its status send under way
        Thread relay = Thread.ofPlatform().start(() -> {
            ByteBuffer chunk = ByteBuffer.allocate(6).position(1);
            chunk.put("late!".getBytes()).flip().position(1);
            try {
                session.output(StdStream.STDOUT, chunk);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        awaitWaiting(relay); // queued for the send lock behind the status
        statusMayGo.countDown();
        ending.join(10_000);
        relay.join(10_000);
        assertThat(wire).containsExactly("channel 3", "close");
    }

    private static void awaitWaiting(Thread thread) throws InterruptedException {
        for (int i = 0; i < 1000 && thread.getState() != Thread.State.WAITING
                && thread.getState() != Thread.State.TIMED_WAITING; i++) {
            Thread.sleep(5);
        }
        assertThat(thread.getState()).isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING);
    }
}
