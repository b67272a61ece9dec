package io.execgate.support;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 over a plain socket, for what clients will not send (URLs they refuse) or hide (the bytes of a chunked
 * body as they came). One request per connection ({@code Connection: close}).
 */
public final class RawHttp {

    private RawHttp() {
    }

    /** An answer as it came: its head (status line and headers) and its body, de-chunked when it was chunked. */
    public record Answer(String head, String body) {

        public String statusLine() {
            return head.lines().findFirst().orElse("");
        }
    }

    /**
     * Sends {@code method path} with the admin token, the {@code headers} given (each ending in CRLF) and
     * {@code body}, then reads until the service closes the connection.
     */
    public static Answer exchange(int port, String method, String path, String headers, String body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            send(socket, method, path, headers, body);
            return parse(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** Sends a request exactly as given (no token, no headers added) and reads the answer to the connection's end. */
    public static Answer exchangeAsIs(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return parse(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** Writes the request on a socket the caller keeps (to read part of the answer, or hang up). */
    public static void send(Socket socket, String method, String path, String headers, String body) throws IOException {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + Api.ADMIN_TOKEN
                + "\r\n" + headers + (content.length > 0 ? "Content-Type: application/json\r\nContent-Length: "
                + content.length + "\r\n" : "") + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(content);
        out.flush();
    }

    private static Answer parse(String answer) throws IOException {
        int end = answer.indexOf("\r\n\r\n");
        String head = answer.substring(0, end);
        String raw = answer.substring(end + 4);
        boolean chunked = head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked");
        return new Answer(head, chunked ? dechunk(raw) : raw);
    }

    /** The body of a chunked answer (RFC 9112 section 7.1), without extensions or trailers. */
    private static String dechunk(String chunked) throws IOException {
        InputStream in = new ByteArrayInputStream(chunked.getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            StringBuilder size = new StringBuilder();
            for (int c = in.read(); c != '\r'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("the chunked body ends early");
                }
                size.append((char) c);
            }
            in.read(); // \n
            int length = Integer.parseInt(size.toString().trim(), 16);
            if (length == 0) {
                return body.toString(StandardCharsets.UTF_8);
            }
            body.write(in.readNBytes(length));
            in.skipNBytes(2);
        }
    }
}
