import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;

/**
 * Does a Java WebSocket client read what a server writes right behind its 101? A plain socket server (no execgate)
 * writes the 101, a 1-byte message (as execgate's "ready"), then 128 messages of 64 KiB + 1 at once (as an attach
 * replaying retained output), all correctly framed, then a close 1000. Rounds of 30 connections alternate between
 * the JDK's java.net.http.WebSocket and Tomcat's jakarta.websocket client; each connection must close with 1000
 * after every message arrived byte for byte. Run by bench/handover.
 */
public class Handover {

    static final int CONNECTIONS = 30;
    static final int MESSAGES = 128;
    static final byte[] MESSAGE = new byte[64 * 1024 + 1];

    interface Result {
        /** Null when the connection read everything and closed with 1000; what went wrong otherwise. */
        String problem() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        new Random(1).nextBytes(MESSAGE);
        MESSAGE[0] = 1;
        try (ServerSocket server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> accept(server));
            URI uri = URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/");
            HttpClient http = HttpClient.newHttpClient();
            WebSocketContainer tomcat = ContainerProvider.getWebSocketContainer();
            tomcat.setDefaultMaxBinaryMessageBufferSize(2 * MESSAGE.length);
            int[] failed = new int[2];
            List<String> examples = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                for (int client = 0; client < 2; client++) {
                    List<Result> results = new ArrayList<>();
                    for (int i = 0; i < CONNECTIONS; i++) {
                        results.add(client == 0 ? jdk(http, uri) : tomcat(tomcat, uri));
                    }
                    for (Result result : results) {
                        String problem = result.problem();
                        if (problem != null) {
                            failed[client]++;
                            if (examples.size() < 5) {
                                examples.add((client == 0 ? "jdk: " : "tomcat: ") + problem);
                            }
                        }
                    }
                }
            }
            int total = rounds * CONNECTIONS;
            System.out.printf("| client | connections | failed |%n|---|---|---|%n");
            System.out.printf("| JDK %s java.net.http.WebSocket | %d | %d |%n", Runtime.version(), total, failed[0]);
            System.out.printf("| Tomcat %s jakarta.websocket | %d | %d |%n",
                    org.apache.tomcat.websocket.WsWebSocketContainer.class.getPackage().getImplementationVersion(),
                    total, failed[1]);
            examples.forEach(e -> System.out.println("  " + e));
        }
        System.exit(0);
    }

    /** The JDK's client: reads every message in parts, checks it whole. */
    static Result jdk(HttpClient http, URI uri) {
        CompletableFuture<String> done = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            final ByteArrayOutputStream message = new ByteArrayOutputStream();
            final Checker checker = new Checker();

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                byte[] part = new byte[data.remaining()];
                data.get(part);
                message.writeBytes(part);
                if (last) {
                    checker.message(message.toByteArray());
                    message.reset();
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                done.complete(checker.closed(code));
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                done.complete(checker.failed(error));
            }
        };
        http.newWebSocketBuilder().buildAsync(uri, listener).join();
        return () -> done.get(60, TimeUnit.SECONDS);
    }

    /** Tomcat's client: whole messages. */
    static Result tomcat(WebSocketContainer container, URI uri) throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        Checker checker = new Checker();
        Endpoint endpoint = new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
                session.addMessageHandler(ByteBuffer.class, data -> {
                    byte[] message = new byte[data.remaining()];
                    data.get(message);
                    checker.message(message);
                });
            }

            @Override
            public void onClose(Session session, CloseReason reason) {
                done.complete(checker.closed(reason.getCloseCode().getCode()));
            }

            @Override
            public void onError(Session session, Throwable error) {
                done.complete(checker.failed(error));
            }
        };
        container.connectToServer(endpoint, ClientEndpointConfig.Builder.create().build(), uri);
        return () -> done.get(60, TimeUnit.SECONDS);
    }

    /** What one connection received, against what the server sent. */
    static final class Checker {
        private int messages;
        private String wrong;

        synchronized void message(byte[] message) {
            if (wrong == null && messages > 0 && !Arrays.equals(message, MESSAGE)) {
                wrong = "message " + messages + " differs from what was sent from byte "
                        + Arrays.mismatch(message, MESSAGE) + " on";
            }
            messages++;
        }

        synchronized String closed(int code) {
            if (wrong != null) {
                return wrong;
            }
            return code == 1000 && messages == MESSAGES + 1 ? null : "close " + code + " after " + messages + " messages";
        }

        synchronized String failed(Throwable error) {
            StringBuilder chain = new StringBuilder(wrong == null ? "" : wrong + "; ");
            chain.append("after ").append(messages).append(" messages:");
            for (Throwable t = error; t != null; t = t.getCause()) {
                chain.append(' ').append(t);
            }
            return chain.toString();
        }
    }

    static void accept(ServerSocket server) {
        while (true) {
            try {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** The 101, the 1-byte message and the 128 large ones in one go, a close 1000, then the client's close. */
    static void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                head.write(b);
            }
            String key = head.toString(StandardCharsets.ISO_8859_1).lines()
                    .filter(l -> l.toLowerCase().startsWith("sec-websocket-key:")).findFirst().orElseThrow()
                    .substring(18).trim();
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {(byte) 0x82, 1, 1});
            out.flush();
            byte[] header = {(byte) 0x82, 127, 0, 0, 0, 0, 0, 1, 0, 1}; // 65,537 bytes
            for (int i = 0; i < MESSAGES; i++) {
                out.write(header);
                out.write(MESSAGE);
                out.flush();
            }
            out.write(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xe8});
            out.flush();
            in.readNBytes(8); // the client's close
        } catch (Exception gone) {
            // the client failed and went: its result says why
        }
    }
}
