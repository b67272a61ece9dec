package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.execgate.exec.Subscription;
import io.execgate.host.ConsoleSize;
import org.junit.jupiter.api.Test;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.WebSocketSession;
import tools.jackson.databind.json.JsonMapper;

/**
 * The control channels against a subscription that records what reaches it: resizes as Kubernetes reads them, and
 * a control the process cannot take, which must leave the session open (it still has a status to receive).
 */
class ExecStreamHandlerTest {

    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final List<Object> closes = new CopyOnWriteArrayList<>();
    private final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final WebSocketSession session = (WebSocketSession) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {WebSocketSession.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getAttributes" -> attributes;
                case "getId" -> "s1";
                case "isOpen" -> true;
                case "close" -> {
                    closes.add(args == null ? "close" : args[0]);
                    yield null;
                }
                default -> null;
            });
    private final ExecStreamHandler handler = new ExecStreamHandler(null, null, JsonMapper.builder().build(),
            Duration.ofSeconds(1), Duration.ofSeconds(1), 1 << 20);

    private void subscribe(boolean failing) {
        StreamSession stream = new StreamSession(session, ChannelProtocol.V5, true, true, true,
                JsonMapper.builder().build(), Duration.ofSeconds(1));
        attributes.put(StreamSession.class.getName(), stream);
        stream.subscribed(new Subscription() {
            @Override
            public boolean writeStdin(byte[] data, Duration patience) {
                calls.add("stdin " + new String(data, StandardCharsets.UTF_8));
                return true;
            }

            @Override
            public void closeStdin() throws IOException {
                calls.add("close stdin");
                if (failing) {
                    throw new IOException("the agent is gone");
                }
            }

            @Override
            public void resize(ConsoleSize size) throws IOException {
                calls.add("resize " + size.width() + "x" + size.height());
                if (failing) {
                    throw new IOException("Bad file descriptor");
                }
            }

            @Override
            public void detach() {
                calls.add("detach");
            }

            @Override
            public String execId() {
                return "e_test";
            }
        });
    }

    private void send(int channel, String text) throws Exception {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        byte[] message = new byte[1 + body.length];
        message[0] = (byte) channel;
        System.arraycopy(body, 0, message, 1, body.length);
        handler.handleMessage(session, new BinaryMessage(message));
    }

    @Test
    void aResizeOrCloseTheProcessCannotTakeLeavesTheSessionOpen() throws Exception {
        subscribe(true);
        send(ChannelProtocol.RESIZE, "{\"Width\":100,\"Height\":40}");
        handler.handleMessage(session, new BinaryMessage(new byte[] {(byte) ChannelProtocol.CLOSE, 0}));
        send(ChannelProtocol.STDIN, "still here");
        assertThat(calls).containsExactly("resize 100x40", "close stdin", "stdin still here");
        assertThat(closes).isEmpty();
    }

    @Test
    void afterAMessageOverTheLimitNothingMoreReachesStdinSoItHasNoHoleInTheMiddle() throws Exception {
        subscribe(false);
        byte[] first = new byte[1 + 600_000];
        java.util.Arrays.fill(first, (byte) 'a');
        first[0] = ChannelProtocol.STDIN;
        handler.handleMessage(session, new BinaryMessage(java.nio.ByteBuffer.wrap(first), false));
        byte[] rest = new byte[600_000]; // past the limit of 1 MiB
        java.util.Arrays.fill(rest, (byte) 'b');
        handler.handleMessage(session, new BinaryMessage(java.nio.ByteBuffer.wrap(rest), true));
        send(ChannelProtocol.STDIN, "sent before the close arrived");
        handler.handleMessage(session, new org.springframework.web.socket.TextMessage("and a text message"));
        assertThat(calls).singleElement().asString().startsWith("stdin aaa").doesNotContain("b");
        for (int i = 0; i < 500 && closes.isEmpty(); i++) {
            Thread.sleep(10); // closed on a thread of its own
        }
        Thread.sleep(100);
        assertThat(closes).singleElement().extracting(c -> ((org.springframework.web.socket.CloseStatus) c).getCode())
                .isEqualTo(1009);
    }

    @Test
    void resizeMembersAreFoundAsGoFindsThemExactFirstThenInAnyCase() throws Exception {
        subscribe(false);
        send(ChannelProtocol.RESIZE, "{\"width\":120,\"height\":40}");
        send(ChannelProtocol.RESIZE, "{\"WIDTH\":1,\"Width\":80,\"HEIGHT\":24}");
        send(ChannelProtocol.RESIZE, "{\"Width\":0,\"Height\":24}"); // a zero size is ignored, as before
        assertThat(calls).containsExactly("resize 120x40", "resize 80x24");
    }
}
