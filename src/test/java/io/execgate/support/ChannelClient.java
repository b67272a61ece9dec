package io.execgate.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * A real WebSocket client speaking the Kubernetes channel protocol, for integration tests: it sorts what arrives by
 * channel, keeps the status and the close, and can read as slowly as a test wants.
 *
 * <p>It speaks RFC 6455 itself over a plain socket, checking every frame the server sends (no mask, no reserved
 * bits, known opcodes, whole control frames of at most 125 bytes, the handshake's accept key). It used to be the
 * JDK's {@code java.net.http.WebSocket}, which (JDK 25.0.3) loses or misplaces bytes that arrive while it hands the
 * connection from its HTTP reader to the WebSocket: a server that writes more than about 16 KiB right behind the 101,
 * as an attach replaying retained output does, made it report "Unexpected rsv2 bit" or deliver corrupted data (a
 * raw-socket server with no execgate in it reproduced that for 49 of 900 connections). Refused handshakes still go
 * through the JDK's client ({@link #refused}): there is no data behind a refusal.
 */
public final class ChannelClient {

    public static final String V5 = "v5.channel.k8s.io";
    public static final String V4 = "v4.channel.k8s.io";
    /** Pass among the protocols to connect without the admin token's Authorization header. */
    public static final String NO_TOKEN = "<no token>";
    /** For refused handshakes only: each HttpClient holds a selector thread and descriptors until it is collected. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final List<String> statuses = new CopyOnWriteArrayList<>();
    private final List<Integer> channels = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final AtomicInteger pings = new AtomicInteger();
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger largest = new AtomicInteger();
    private final boolean countOnly;
    private final Object demandLock = new Object();
    private long demand; // guarded by demandLock: frames the reader may still read; Long.MAX_VALUE is without limit
    private final Object sendLock = new Object();
    private boolean closeSent; // guarded by sendLock
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String subprotocol;
    private volatile @Nullable String closeReason;
    private volatile @Nullable Throwable error;
    private volatile int readyChannel = -1;

    private ChannelClient(Socket socket, DataInputStream in, String subprotocol, boolean countOnly, boolean autoRead)
            throws IOException {
        this.socket = socket;
        this.in = in;
        this.out = socket.getOutputStream();
        this.subprotocol = subprotocol;
        this.countOnly = countOnly;
        this.demand = autoRead ? Long.MAX_VALUE : 1; // a slow reader takes the first message (the ready one) only
    }

    /** Connects, offering the given subprotocols in order. */
    public static ChannelClient connect(URI uri, String... protocols) {
        return connect(uri, false, true, protocols);
    }

    /**
     * @param countOnly count output bytes instead of keeping them (for floods)
     * @param autoRead  read each message as soon as it comes; otherwise the client reads the first one (the ready
     *                  message) and then only as many as the test lets in with {@link #read(long)}
     */
    public static ChannelClient connect(URI uri, boolean countOnly, boolean autoRead, String... protocols) {
        Socket socket = new Socket();
        try {
            // A fixed receive window (the kernel doubles it): with autotuning (up to 32 MiB here) a client that takes
            // whole 1 MiB messages could let the kernel hold more than the service ever does, and the tests that
            // measure how far a process gets ahead of its slow client would measure the kernel.
            socket.setReceiveBufferSize(256 * 1024);
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
            socket.setSoTimeout(30_000); // for the handshake; frames then wait as long as the test does
            String key = Base64.getEncoder().encodeToString(randomBytes(16));
            StringBuilder request = new StringBuilder("GET ").append(uri.getRawPath())
                    .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
                    .append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
                    .append("Sec-WebSocket-Key: ").append(key).append("\r\n");
            if (sendsAdminToken(protocols)) {
                request.append("Authorization: Bearer ").append(Api.ADMIN_TOKEN).append("\r\n");
            }
            String[] offered = offered(protocols);
            if (offered.length > 0) {
                request.append("Sec-WebSocket-Protocol: ").append(String.join(", ", offered)).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            // Buffered: the bytes behind the response's head are the first frames, and they stay in this buffer.
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
            Map<String, String> headers = new LinkedHashMap<>();
            String status = readHead(in, headers);
            if (!status.startsWith("HTTP/1.1 101 ")) {
                throw new IllegalStateException("the handshake was refused: " + status);
            }
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII)));
            if (!accept.equals(headers.get("sec-websocket-accept"))) {
                throw new IllegalStateException("a 101 with the wrong Sec-WebSocket-Accept: " + headers);
            }
            socket.setSoTimeout(0);
            ChannelClient client = new ChannelClient(socket, in, headers.getOrDefault("sec-websocket-protocol", ""),
                    countOnly, autoRead);
            Thread.ofPlatform().daemon().name("channel-client-" + socket.getLocalPort()).start(client::receive);
            return client;
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            closeQuietly(socket);
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
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

    /** A JDK handshake builder as the client makes it, for refused handshakes: the admin token unless told otherwise. */
    public static WebSocket.Builder builder(String... protocols) {
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (sendsAdminToken(protocols)) {
            builder.header("Authorization", "Bearer " + Api.ADMIN_TOKEN);
        }
        String[] offered = offered(protocols);
        if (offered.length > 0) {
            builder.subprotocols(offered[0], Arrays.copyOfRange(offered, 1, offered.length));
        }
        return builder;
    }

    /** The admin token goes in a header unless the test said not to, or offers a token among the protocols. */
    private static boolean sendsAdminToken(String... protocols) {
        List<String> list = Arrays.asList(protocols);
        return !list.contains(NO_TOKEN) && list.stream().noneMatch(p -> p.startsWith("base64url.bearer."));
    }

    private static String[] offered(String... protocols) {
        return Arrays.stream(protocols).filter(p -> !p.equals(NO_TOKEN)).toArray(String[]::new);
    }

    /** Reads the response's status line and headers (names in lower case); the stream is left at the first frame. */
    private static String readHead(DataInputStream in, Map<String, String> headers) throws IOException {
        String status = readLine(in);
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        return status;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the connection ended in the handshake's response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** The reader thread: frames until the close or the connection's end. */
    private void receive() {
        try {
            ByteArrayOutputStream message = null; // a fragmented message under way
            while (true) {
                awaitDemand();
                int b0 = in.readUnsignedByte();
                int b1 = in.readUnsignedByte();
                int opcode = b0 & 0x0f;
                boolean fin = (b0 & 0x80) != 0;
                if ((b0 & 0x70) != 0) {
                    throw new ProtocolException(String.format("reserved bits set: 0x%02x", b0));
                }
                if ((b1 & 0x80) != 0) {
                    throw new ProtocolException("a masked frame from the server");
                }
                long length = b1 & 0x7f;
                if (length == 126) {
                    length = in.readUnsignedShort();
                } else if (length == 127) {
                    length = in.readLong();
                }
                boolean control = opcode >= 0x8;
                if (control && (!fin || length > 125)) {
                    throw new ProtocolException("a fragmented or long control frame: opcode " + opcode + ", " + length);
                }
                if (length > Integer.MAX_VALUE - 8 || length < 0) {
                    throw new ProtocolException("a frame of " + length + " bytes");
                }
                byte[] payload = in.readNBytes((int) length);
                if (payload.length < length) {
                    throw new EOFException("the connection ended inside a frame");
                }
                switch (opcode) {
                    case 0x0, 0x1, 0x2 -> {
                        if ((opcode == 0) != (message != null)) {
                            throw new ProtocolException(opcode == 0 ? "a continuation without a message"
                                    : "a new message inside a fragmented one");
                        }
                        if (opcode == 0x1) {
                            throw new ProtocolException("a text message: the channel protocols send binary ones");
                        }
                        if (message == null) {
                            message = new ByteArrayOutputStream();
                        }
                        message.writeBytes(payload);
                        if (fin) {
                            accept(message.toByteArray());
                            message = null;
                        }
                    }
                    case 0x8 -> {
                        int code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
                        closeReason = payload.length > 2
                                ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
                        sendFrame(0x8, payload.length >= 2 ? Arrays.copyOf(payload, 2) : new byte[0]); // the echo
                        closed.complete(code);
                        socket.setSoTimeout(10_000);
                        in.skip(Long.MAX_VALUE); // the server ends the connection after the echo
                        return;
                    }
                    case 0x9 -> {
                        pings.incrementAndGet();
                        sendFrame(0xA, payload);
                    }
                    case 0xA -> {
                        // a pong to one of ours
                    }
                    default -> throw new ProtocolException("unknown opcode " + opcode);
                }
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (!closed.isDone()) {
                error = e;
                closed.complete(1006);
            }
        } finally {
            closeQuietly(socket);
        }
    }

    /** Waits until the test lets the next frame in (autoRead clients never wait). */
    private void awaitDemand() throws InterruptedException {
        synchronized (demandLock) {
            while (demand == 0) {
                demandLock.wait();
            }
            if (demand != Long.MAX_VALUE) {
                demand--;
            }
        }
    }

    private synchronized void accept(byte[] message) {
        if (message.length == 0) {
            throw new AssertionError("the server sent an empty message: it has no channel");
        }
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

    /** Writes one masked frame; a close goes out once, and nothing after it. */
    private void sendFrame(int opcode, byte[] payload) throws IOException {
        byte[] mask = randomBytes(4);
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length <= 0xffff) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift) & 0xff);
            }
        }
        frame.writeBytes(mask);
        byte[] masked = payload.clone();
        for (int i = 0; i < masked.length; i++) {
            masked[i] ^= mask[i & 3];
        }
        frame.writeBytes(masked);
        synchronized (sendLock) {
            if (closeSent) {
                return;
            }
            closeSent = opcode == 0x8;
            out.write(frame.toByteArray());
            out.flush();
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed already
        }
    }

    /** Lets the next {@code n} messages in (for a client that reads slowly); Long.MAX_VALUE lets everything in. */
    public void read(long n) {
        synchronized (demandLock) {
            demand = n == Long.MAX_VALUE || demand > Long.MAX_VALUE - n ? Long.MAX_VALUE : demand + n;
            demandLock.notifyAll();
        }
    }

    public void send(int channel, byte[] data) {
        byte[] message = new byte[1 + data.length];
        message[0] = (byte) channel;
        System.arraycopy(data, 0, message, 1, data.length);
        sendRaw(message);
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
        send(0x1, text.getBytes(StandardCharsets.UTF_8), "a text message");
    }

    public void sendRaw(byte[] message) {
        send(0x2, message, "a message");
    }

    private void send(int opcode, byte[] payload, String what) {
        try {
            sendFrame(opcode, payload);
        } catch (IOException e) {
            throw new IllegalStateException("sending " + what + " failed", e);
        }
    }

    /** Drops the connection without a close handshake, as a killed client does. */
    public void abort() {
        closeQuietly(socket);
    }

    /** Starts the close handshake (1000, "bye"); the server's answer completes {@link #awaitClose}. */
    public void closeNormally() {
        byte[] payload = {0x03, (byte) 0xe8, 'b', 'y', 'e'};
        send(0x8, payload, "the close");
    }

    /** Waits for the server's close and returns its code (1006 when the connection ended without one). */
    public int awaitClose(Duration within) throws Exception {
        return closed.get(within.toMillis(), TimeUnit.MILLISECONDS);
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

    /** What ended the connection without a close frame (the 1006 of {@link #awaitClose}), with its causes. */
    public String errorChain() {
        StringBuilder chain = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            chain.append(chain.isEmpty() ? "" : " <- ").append(t);
        }
        return chain.isEmpty() ? "none" : chain.toString();
    }

    public @Nullable String closeReason() {
        return closeReason;
    }

    /** The subprotocol the server chose ("" when it chose none). */
    public String subprotocol() {
        return subprotocol;
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
