package io.execgate.support;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * A real WebSocket client (the JDK's) speaking the Kubernetes channel protocol, for integration tests: it sorts
 * what arrives by channel, keeps the status and the close, and can read as slowly as a test wants.
 */
public final class ChannelClient implements WebSocket.Listener {

    public static final String V5 = "v5.channel.k8s.io";
    public static final String V4 = "v4.channel.k8s.io";
    /** Pass among the protocols to connect without the admin token's Authorization header. */
    public static final String NO_TOKEN = "<no token>";
    /** One client for all: each HttpClient holds a selector thread and descriptors until it is collected. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final List<String> statuses = new CopyOnWriteArrayList<>();
    private final List<Integer> channels = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final AtomicInteger pings = new AtomicInteger();
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger largest = new AtomicInteger();
    private final boolean countOnly;
    private final boolean autoRead;
    private ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private volatile @Nullable String closeReason;
    private volatile @Nullable Throwable error;
    private volatile int readyChannel = -1;
    private volatile @Nullable String text;
    private volatile WebSocket socket;

    private ChannelClient(boolean countOnly, boolean autoRead) {
        this.countOnly = countOnly;
        this.autoRead = autoRead;
    }

    /** Connects, offering the given subprotocols in order. */
    public static ChannelClient connect(URI uri, String... protocols) {
        return connect(uri, false, true, protocols);
    }

    /**
     * @param countOnly count output bytes instead of keeping them (for floods)
     * @param autoRead  ask for the next message as soon as one arrives; otherwise the test calls {@link #read(long)}
     */
    public static ChannelClient connect(URI uri, boolean countOnly, boolean autoRead, String... protocols) {
        ChannelClient client = new ChannelClient(countOnly, autoRead);
        client.socket = builder(protocols).buildAsync(uri, client).join();
        return client;
    }

    /** Tries a handshake that should be refused; returns the HTTP status and body it was refused with. */
    public static Refusal refused(URI uri, String... protocols) {
        return refused(builder(protocols), uri);
    }

    /** As {@link #refused(URI, String...)}, with a builder the test has set up (headers). */
    public static Refusal refused(WebSocket.Builder builder, URI uri) {
        try {
            WebSocket socket = builder.buildAsync(uri, new WebSocket.Listener() { }).join();
            socket.abort();
            throw new AssertionError("the handshake was accepted");
        } catch (CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                Object body = refused.getResponse().body();
                return new Refusal(refused.getResponse().statusCode(), body == null ? "" : body.toString());
            }
            throw e;
        }
    }

    public record Refusal(int status, String body) {
    }

    /** A handshake builder as the client makes it: the admin token unless told otherwise. */
    public static WebSocket.Builder builder(String... protocols) {
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        boolean tokenAmongProtocols = java.util.Arrays.stream(protocols).anyMatch(p -> p.startsWith("base64url.bearer."));
        if (!tokenAmongProtocols && !java.util.Arrays.asList(protocols).contains(NO_TOKEN)) {
            builder.header("Authorization", "Bearer " + Api.ADMIN_TOKEN);
        }
        protocols = java.util.Arrays.stream(protocols).filter(p -> !p.equals(NO_TOKEN)).toArray(String[]::new);
        if (protocols.length > 0) {
            builder.subprotocols(protocols[0], java.util.Arrays.copyOfRange(protocols, 1, protocols.length));
        }
        return builder;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        synchronized (this) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
            if (last) {
                byte[] message = partial.toByteArray();
                partial = new ByteArrayOutputStream();
                accept(message);
            }
        }
        if (autoRead) {
            webSocket.request(1);
        }
        return null;
    }

    private void accept(byte[] message) {
        int channel = message[0] & 0xff;
        if (message.length == 1 && channels.isEmpty() && readyChannel < 0) {
            readyChannel = channel; // Kubernetes' "ready" signal: an empty first message
            return;
        }
        channels.add(channel);
        received.addAndGet(message.length - 1);
        largest.accumulateAndGet(message.length, Math::max);
        switch (channel) {
            case 1 -> {
                if (!countOnly) {
                    stdout.write(message, 1, message.length - 1);
                }
            }
            case 2 -> stderr.write(message, 1, message.length - 1);
            case 3 -> statuses.add(new String(message, 1, message.length - 1, StandardCharsets.UTF_8));
            default -> throw new AssertionError("the server sent on channel " + channel);
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        text = data.toString();
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        pings.incrementAndGet();
        webSocket.request(1);
        return null; // the JDK answers with a pong by itself
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeReason = reason;
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        this.error = error;
        closed.complete(1006);
    }

    /** Lets the next {@code n} messages in (for a client that reads slowly). */
    public void read(long n) {
        socket.request(n);
    }

    public void send(int channel, byte[] data) {
        byte[] message = new byte[1 + data.length];
        message[0] = (byte) channel;
        System.arraycopy(data, 0, message, 1, data.length);
        socket.sendBinary(ByteBuffer.wrap(message), true).join();
    }

    public void stdin(String text) {
        send(0, text.getBytes(StandardCharsets.UTF_8));
    }

    /** v5's CLOSE for stdin: {@code [255, 0]}. */
    public void closeStdin() {
        send(255, new byte[] {0});
    }

    public void resize(int width, int height) {
        send(4, ("{\"Width\":" + width + ",\"Height\":" + height + "}").getBytes(StandardCharsets.UTF_8));
    }

    public void sendText(String text) {
        socket.sendText(text, true).join();
    }

    public void sendRaw(byte[] message) {
        socket.sendBinary(ByteBuffer.wrap(message), true).join();
    }

    /** Drops the connection without a close handshake, as a killed client does. */
    public void abort() {
        socket.abort();
    }

    public void closeNormally() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }

    /** Waits for the server's close and returns its code. */
    public int awaitClose(Duration within) throws Exception {
        return closed.get(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Waits until the connection is over: closed by the server, or dead. The JDK client does not always report a
     * connection the server dropped while the client was not reading (it then neither closes nor errs), but a ping
     * on such a connection fails.
     */
    public boolean awaitGone(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (closed.isDone()) {
                return true;
            }
            try {
                socket.sendPing(ByteBuffer.allocate(0)).get(1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return true;
            } catch (java.util.concurrent.TimeoutException stillSending) {
                // the output is stuck too: try again
            }
            Thread.sleep(200);
        }
        return closed.isDone();
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    /** Waits until stdout holds {@code text}; fails the test when it does not within the time. */
    public void awaitStdout(String text, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!stdout().contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!stdout().contains(text)) {
            throw new AssertionError("stdout did not show \"" + text + "\" within " + within + "; it holds: " + stdout());
        }
    }

    public synchronized String stdout() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    /** Stdout as the bytes that came, for binary output. */
    public synchronized byte[] stdoutBytes() {
        return stdout.toByteArray();
    }

    public synchronized String stderr() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    public List<String> statuses() {
        return statuses;
    }

    public List<Integer> channels() {
        return channels;
    }

    /** What ended the connection without a close frame (the 1006 of {@link #awaitClose}), or null. */
    public @Nullable Throwable error() {
        return error;
    }

    public @Nullable String closeReason() {
        return closeReason;
    }

    public String subprotocol() {
        return socket.getSubprotocol();
    }

    /** The channel of the empty first message ("ready"), or -1 when none came. */
    public int readyChannel() {
        return readyChannel;
    }

    public int pings() {
        return pings.get();
    }

    /** Output bytes received on channels 1 and 2 (and 3), headers not counted. */
    public long received() {
        return received.get();
    }

    /** The largest message received, channel byte included. */
    public int largestMessage() {
        return largest.get();
    }
}
