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
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
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
 * <p>It speaks RFC 6455 itself over a plain socket and checks what the server sends: the handshake (the accept key,
 * Upgrade and Connection, a subprotocol it offered) and every frame (no mask, no reserved bits, known opcodes,
 * lengths in their shortest form, whole control frames of at most 125 bytes, close codes an endpoint may send with
 * UTF-8 reasons, binary messages only).
 *
 * <p>It used to be the JDK's {@code java.net.http.WebSocket}, which (JDK 25.0.3) loses or misplaces bytes that
 * arrive while it hands the connection from its HTTP reader to the WebSocket: a server that writes more than about
 * 16 KiB right behind the 101, as an attach replaying retained output does, made it report "Unexpected rsv2 bit" or
 * deliver corrupted data (a raw-socket server with no execgate in it reproduced that for 49 of 900 connections).
 * Refused handshakes still go through the JDK's client ({@link #refused}): there is no data behind a refusal.
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

    /** Data messages go out in frames of at most this much, so a pong or a close can go between them. */
    private static final int FRAGMENT = 64 * 1024;

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
    private long demand; // guarded by demandLock: messages the reader may still take; Long.MAX_VALUE is no limit
    private boolean aborted; // guarded by demandLock
    private final Object messageLock = new Object(); // one data message at a time, all of its frames
    private final Object frameLock = new Object(); // one frame at a time
    private boolean closeSent; // guarded by frameLock
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
     * @throws HandshakeRefused when the server answers with anything but a 101
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
            List<String> offered = offered(protocols);
            if (!offered.isEmpty()) {
                request.append("Sec-WebSocket-Protocol: ").append(String.join(", ", offered)).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            // Buffered: the bytes behind the response's head are the first frames, and they stay in this buffer.
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
            Map<String, String> headers = new LinkedHashMap<>();
            int status = readHead(in, headers);
            if (status != 101) {
                throw new HandshakeRefused(status);
            }
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII)));
            String chosen = headers.getOrDefault("sec-websocket-protocol", "");
            if (!accept.equals(headers.get("sec-websocket-accept"))
                    || !"websocket".equalsIgnoreCase(headers.get("upgrade"))
                    || !headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT).contains("upgrade")
                    || !(chosen.isEmpty() || offered.contains(chosen))) {
                throw new IllegalStateException("a 101 that does not complete the handshake: " + headers);
            }
            socket.setSoTimeout(0);
            ChannelClient client = new ChannelClient(socket, in, chosen, countOnly, autoRead);
            Thread.ofPlatform().daemon().name("channel-client-" + socket.getLocalPort()).start(client::receive);
            return client;
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            closeQuietly(socket);
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
    }

    /** The server answered the handshake with {@code status} instead of a 101. */
    public static final class HandshakeRefused extends IllegalStateException {
        private final int status;

        HandshakeRefused(int status) {
            super("the handshake was refused with " + status);
            this.status = status;
        }

        public int status() {
            return status;
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
        List<String> offered = offered(protocols);
        if (!offered.isEmpty()) {
            builder.subprotocols(offered.getFirst(), offered.subList(1, offered.size()).toArray(String[]::new));
        }
        return builder;
    }

    /** The admin token goes in a header unless the test said not to, or offers a token among the protocols. */
    private static boolean sendsAdminToken(String... protocols) {
        List<String> list = Arrays.asList(protocols);
        return !list.contains(NO_TOKEN) && list.stream().noneMatch(p -> p.startsWith("base64url.bearer."));
    }

    private static List<String> offered(String... protocols) {
        return Arrays.stream(protocols).filter(p -> !p.equals(NO_TOKEN)).toList();
    }

    /** Reads the response's head: returns its status code, puts its headers (names in lower case). */
    private static int readHead(DataInputStream in, Map<String, String> headers) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new ProtocolException("not an HTTP response: " + statusLine);
        }
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new ProtocolException("not an HTTP status: " + statusLine);
        }
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

    /**
     * The reader thread: frames until the close or the connection's end. Anything that breaks RFC 6455, or the
     * channel protocol, ends the connection as the 1006 of {@link #awaitClose} with {@link #errorChain} saying what.
     */
    private void receive() {
        try {
            ByteArrayOutputStream message = null; // a fragmented message under way
            while (true) {
                if (message == null) {
                    awaitDemand(); // a message's frames come in as one, and control frames need none
                }
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
                    if (length < 126) {
                        throw new ProtocolException("a 16-bit length for " + length + " bytes");
                    }
                } else if (length == 127) {
                    length = in.readLong();
                    if (length <= 0xffff) {
                        throw new ProtocolException("a 64-bit length for " + length + " bytes");
                    }
                }
                boolean control = opcode >= 0x8;
                if (control && (!fin || length > 125)) {
                    throw new ProtocolException("a fragmented or long control frame: opcode " + opcode + ", " + length);
                }
                if (length > Integer.MAX_VALUE - 8) {
                    throw new ProtocolException("a frame of " + length + " bytes");
                }
                byte[] payload = in.readNBytes((int) length);
                if (payload.length < length) {
                    throw new EOFException("the connection ended inside a frame");
                }
                switch (opcode) {
                    case 0x0, 0x2 -> {
                        if ((opcode == 0) != (message != null)) {
                            throw new ProtocolException(opcode == 0 ? "a continuation without a message"
                                    : "a new message inside a fragmented one");
                        }
                        if (message == null) {
                            message = new ByteArrayOutputStream();
                        }
                        message.writeBytes(payload);
                        if (fin) {
                            accept(message.toByteArray());
                            message = null;
                            tookMessage();
                        }
                    }
                    case 0x1 -> throw new ProtocolException("a text message: the channel protocols send binary ones");
                    case 0x8 -> {
                        closedByServer(payload);
                        return;
                    }
                    case 0x9 -> {
                        pings.incrementAndGet();
                        sendFrame(0xA, payload, 0, payload.length, true);
                    }
                    case 0xA -> {
                        // a pong: the client sends no pings
                    }
                    default -> throw new ProtocolException("an unknown opcode: " + opcode);
                }
            }
        } catch (Throwable t) { // an AssertionError from accept too: a test must not wait for a close that never comes
            if (!closed.isDone()) {
                error = t;
                closed.complete(1006);
            }
        } finally {
            closeQuietly(socket);
        }
    }

    /**
     * The server's close: its code and reason count from now, whatever becomes of the echo (a server that closes
     * its connection at once, as Tomcat does after a protocol error, makes the echo fail); then the connection's end.
     */
    private void closedByServer(byte[] payload) throws IOException {
        int code = 1005;
        if (payload.length == 1) {
            throw new ProtocolException("a close frame of one byte");
        }
        if (payload.length >= 2) {
            code = ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
            boolean valid = code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999;
            if (!valid) {
                throw new ProtocolException("a close code no endpoint may send: " + code);
            }
            try {
                closeReason = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(payload, 2, payload.length - 2))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new ProtocolException("a close reason that is not UTF-8");
            }
        } else {
            closeReason = "";
        }
        closed.complete(code);
        try {
            sendFrame(0x8, payload, 0, Math.min(2, payload.length), true); // the echo
            socket.setSoTimeout(10_000);
            in.transferTo(OutputStream.nullOutputStream()); // the server ends the connection after the echo
        } catch (IOException gone) {
            // the server did not wait for the echo
        }
    }

    /** Waits until the test lets the next message in (autoRead clients never wait); throws once aborted. */
    private void awaitDemand() throws InterruptedException, IOException {
        synchronized (demandLock) {
            while (demand == 0 && !aborted) {
                demandLock.wait();
            }
            if (aborted) {
                throw new IOException("aborted by the test");
            }
        }
    }

    private void tookMessage() {
        synchronized (demandLock) {
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

    /** Sends a data message in frames of at most {@link #FRAGMENT}, so that control frames can go between them. */
    private void sendMessage(int opcode, byte[] payload) throws IOException {
        synchronized (messageLock) {
            int from = 0;
            do {
                int length = Math.min(FRAGMENT, payload.length - from);
                boolean fin = from + length == payload.length;
                sendFrame(from == 0 ? opcode : 0x0, payload, from, length, fin);
                from += length;
            } while (from < payload.length);
        }
    }

    /** Writes one masked frame; a close goes out once, and nothing after it. */
    private void sendFrame(int opcode, byte[] payload, int from, int length, boolean fin) throws IOException {
        int lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
        byte[] frame = new byte[2 + lengthBytes + 4 + length];
        frame[0] = (byte) ((fin ? 0x80 : 0) | opcode);
        frame[1] = (byte) (0x80 | (lengthBytes == 0 ? length : lengthBytes == 2 ? 126 : 127));
        for (int i = 0; i < lengthBytes; i++) {
            frame[2 + i] = (byte) ((long) length >>> (8 * (lengthBytes - 1 - i)));
        }
        int at = 2 + lengthBytes;
        byte[] mask = randomBytes(4);
        System.arraycopy(mask, 0, frame, at, 4);
        at += 4;
        for (int i = 0; i < length; i++) {
            frame[at + i] = (byte) (payload[from + i] ^ mask[i & 3]);
        }
        synchronized (frameLock) {
            if (closeSent) {
                return;
            }
            closeSent = opcode == 0x8;
            out.write(frame);
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
        if (n <= 0) {
            throw new IllegalArgumentException("read(" + n + ")");
        }
        synchronized (demandLock) {
            demand = demand > Long.MAX_VALUE - n ? Long.MAX_VALUE : demand + n;
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
        try {
            sendMessage(0x1, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("sending a text message failed", e);
        }
    }

    public void sendRaw(byte[] message) {
        try {
            sendMessage(0x2, message);
        } catch (IOException e) {
            throw new IllegalStateException("sending a message failed", e);
        }
    }

    /** Drops the connection without a close handshake, as a killed client does; {@link #awaitClose} says 1006. */
    public void abort() {
        synchronized (demandLock) {
            aborted = true;
            demandLock.notifyAll(); // a reader waiting for the test to let a message in
        }
        closeQuietly(socket);
    }

    /** Starts the close handshake (1000, "bye"); the server's answer completes {@link #awaitClose}. */
    public void closeNormally() {
        byte[] payload = {0x03, (byte) 0xe8, 'b', 'y', 'e'};
        try {
            sendFrame(0x8, payload, 0, payload.length, true);
        } catch (IOException e) {
            throw new IllegalStateException("sending the close failed", e);
        }
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
