import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * execgate's benchmarks, side by side with peers in the same run (bench/run starts this with JDK 25):
 * websocketd for streaming and spawn latency, a bare Node ws server as the client's ceiling, runc exec alone as
 * the floor. One client for every system: the JDK's java.net.http WebSocket and HttpClient.
 *
 * <p>Usage: {@code java bench/Bench.java [--rounds N] [--only throughput,latency,scale,soak,uvm] [--quick]}
 */
public class Bench {

    static final String V5 = "v5.channel.k8s.io";
    static final String TOKEN = "bench-" + HexFormat.of().formatHex(java.security.SecureRandom.getSeed(8));
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final Path WORK = tempDir();
    static final List<Process> CHILDREN = new ArrayList<>();
    static final List<String[]> TABLE = new ArrayList<>();

    static int rounds = 3;
    static boolean quick;
    static List<String> only = List.of("throughput", "latency", "scale", "soak", "uvm");
    static Process service;
    static int port;

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "--quick" -> quick = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(Bench::stopAll));
        System.out.printf("machine: %s, %d cpus, %s; load %s%n", cpuModel(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.version"), Files.readString(Path.of("/proc/loadavg")).strip());
        startService();
        if (only.contains("throughput")) {
            throughput();
        }
        if (only.contains("latency")) {
            latency();
        }
        if (only.contains("uvm")) {
            uvm();
        }
        if (only.contains("scale")) {
            scale();
        }
        if (only.contains("soak")) {
            soak();
        }
        printTable();
        stopAll();
        System.exit(0);
    }

    // ---------------------------------------------------------------- scenarios

    static void throughput() throws Exception {
        long bytes = quick ? 256L << 20 : 1L << 30;
        String head = "command=head&command=-c&command=" + bytes + "&command=/dev/zero";
        String execgate = "ws://127.0.0.1:" + port + "/api/v1/host/exec?" + head + "&stdout=true&stderr=false";
        double[] eg = rounds(() -> streamMBps(execgate, V5, bytes));
        double[] egTty = rounds(() -> streamMBps(execgate + "&tty=true&stdin=false", V5, bytes));
        int wsdPort = freePort();
        startPeer(List.of("websocketd", "--port=" + wsdPort, "--address=127.0.0.1", "--binary=true", "head", "-c",
                Long.toString(bytes), "/dev/zero"), wsdPort);
        double[] wsd = rounds(() -> streamMBps("ws://127.0.0.1:" + wsdPort + "/", null, bytes));
        int nodePort = freePort();
        startPeer(List.of("node", "bench/ws-server.mjs", Integer.toString(nodePort), Long.toString(bytes)), nodePort);
        double[] node = rounds(() -> streamMBps("ws://127.0.0.1:" + nodePort + "/", null, bytes));
        String size = bytes == 1L << 30 ? "1 GiB" : (bytes >> 20) + " MiB";
        row("throughput", "stdout " + size + " to a WebSocket client (MB/s)", eg, "websocketd --binary", wsd, true);
        row("throughput", "same, execgate vs the client's ceiling (bare Node ws)", eg, "node ws", node, true);
        row("throughput", "through a tty (MB/s)", egTty, "websocketd --binary", wsd, true);
    }

    static void latency() throws Exception {
        int n = quick ? 200 : 500;
        // warm up the JIT and the connection pool on both sides
        for (int i = 0; i < 200; i++) {
            post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}");
        }
        double[] create = samples(n, () -> {
            String id = field(post("/api/v1/host/execs", "{\"command\": [\"true\"]}"), "id");
            get("/api/v1/execs/" + id + "/exit?wait=PT30S");
        });
        double[] run = samples(n, () -> post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}"));
        double[] floor = samples(n, () -> runProcess(List.of("true")));
        rowPercentiles("latency", "REST create + exit wait of `true` on the host (ms)", create, "fork+exec `true` from Java", floor);
        rowPercentiles("latency", "POST .../execs/run of `true` (ms)", run, "fork+exec `true` from Java", floor);

        int wsdPort = freePort();
        startPeer(List.of("websocketd", "--port=" + wsdPort, "--address=127.0.0.1", "echo", "hi"), wsdPort);
        String oneStep = "ws://127.0.0.1:" + port + "/api/v1/host/exec?command=echo&command=hi&stdout=true&stderr=false";
        for (int i = 0; i < 100; i++) {
            oneShot(oneStep, V5);
            retrying(() -> oneShot("ws://127.0.0.1:" + wsdPort + "/", null));
        }
        double[] egWs = samples(n, () -> oneShot(oneStep, V5));
        double[] wsdWs = samplesRetrying(n, () -> oneShot("ws://127.0.0.1:" + wsdPort + "/", null));
        rowPercentiles("latency", "one-step WebSocket `echo hi`, connect to close (ms)", egWs,
                "websocketd `echo hi` (" + retried + " tries lost by the client)", wsdWs);

        String container = OciFixture.start(WORK);
        if (container != null) {
            int m = quick ? 30 : 100;
            String body = "{\"command\": [\"true\"]}";
            for (int i = 0; i < 10; i++) {
                post("/api/v1/containers/" + container + "/execs/run", body);
            }
            double[] egRunc = samples(m, () -> post("/api/v1/containers/" + container + "/execs/run", body));
            double[] runc = samples(m, () -> runProcess(List.of("runc", "--root", OciFixture.root(WORK).toString(), "exec",
                    container, "true")));
            rowPercentiles("latency", "`true` in a runc container through execgate (ms)", egRunc, "runc exec alone", runc);
        } else {
            System.out.println("skipping the runc comparison: " + OciFixture.why);
        }
    }

    static void uvm() throws Exception {
        String created = postStatus("/api/v1/uvms", "{\"id\": \"bench\"}");
        if (created == null) {
            System.out.println("skipping UVMs: " + get("/api/v1/host"));
            return;
        }
        long began = System.nanoTime();
        post("/api/v1/uvms/bench/execs/run", "{\"command\": [\"true\"]}");
        double bootToExec = (System.nanoTime() - began) / 1e6;
        String info = get("/api/v1/uvms/bench");
        double bootMillis = Double.parseDouble(field(info, "bootMillis"));
        int n = quick ? 50 : 200;
        double[] echo = samples(n, () -> post("/api/v1/uvms/bench/execs/run", "{\"command\": [\"echo\", \"hi\"]}"));
        double[] hostEcho = samples(n, () -> post("/api/v1/host/execs/run", "{\"command\": [\"echo\", \"hi\"]}"));
        long bytes = quick ? 32L << 20 : 100L << 20;
        double[] stream = rounds(() -> streamMBps("ws://127.0.0.1:" + port + "/api/v1/uvms/bench/exec?command=dd"
                + "&command=if=/dev/zero&command=bs=65536&command=count=" + (bytes / 65536) + "&stdout=true&stderr=false",
                V5, bytes));
        http("DELETE", "/api/v1/uvms/bench", null);
        TABLE.add(new String[] {"uvm", "POST /api/v1/uvms to the first exec's end (ms; boot " + (long) bootMillis + " ms)",
                fmt(bootToExec), "", "", "", ""});
        rowPercentiles("uvm", "execs/run `echo hi` in a running UVM (ms)", echo, "the same on the host", hostEcho);
        TABLE.add(new String[] {"uvm", "dd of " + (bytes >> 20) + " MiB from a UVM to a WebSocket client (MB/s)",
                medianSpread(stream), "", "", "", ""});
    }

    static void scale() throws Exception {
        int sessions = quick ? 200 : 1000;
        long[] base = memory();
        String url = "ws://127.0.0.1:" + port + "/api/v1/host/exec?command=cat&stdin=true&stdout=true&stderr=false";
        List<EchoSession> open = new ArrayList<>();
        long[] at100 = null;
        for (int i = 0; i < sessions; i++) {
            open.add(EchoSession.connect(url));
            if (open.size() == 100) {
                at100 = memory();
            }
        }
        Thread.sleep(2000);
        long[] atAll = memory();
        // one message echoed through every session, all at once
        List<CompletableFuture<Double>> trips = new ArrayList<>();
        for (EchoSession session : open) {
            trips.add(session.roundTrip());
        }
        double[] ms = trips.stream().mapToDouble(f -> f.join()).sorted().toArray();
        for (EchoSession session : open) {
            session.close();
        }
        TABLE.add(new String[] {"scale", sessions + " attached `cat` sessions: echo round trip p50 / p99 (ms)",
                fmt(pct(ms, 50)) + " / " + fmt(pct(ms, 99)), "", "", "", ""});
        TABLE.add(new String[] {"scale", "service RSS at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[0]) + " / " + mib(at100[0]) + " / " + mib(atAll[0]), "", "", "", ""});
        TABLE.add(new String[] {"scale", "heap after GC at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[1]) + " / " + mib(at100[1]) + " / " + mib(atAll[1]), "", "", "", ""});
        TABLE.add(new String[] {"scale", "per idle session: RSS / heap (KiB)", (atAll[0] - base[0]) / 1024 / sessions
                + " / " + (atAll[1] - base[1]) / 1024 / sessions, "", "", "", ""});
    }

    static void soak() throws Exception {
        int n = quick ? 2000 : 20000;
        for (int i = 0; i < 200; i++) { // warm: the pools and caches a first burst fills are not growth
            post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}");
        }
        Thread.sleep(3000);
        long[] before = resources();
        AtomicInteger left = new AtomicInteger(n);
        List<Thread> workers = new ArrayList<>();
        long began = System.nanoTime();
        for (int w = 0; w < 4; w++) {
            workers.add(Thread.ofPlatform().start(() -> {
                while (left.getAndDecrement() > 0) {
                    try {
                        post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        Thread.sleep(2000);
        long[] after = resources();
        TABLE.add(new String[] {"soak", n + " execs/run of `true`, 4 clients (execs/s)", fmt(n / seconds), "", "", "", ""});
        TABLE.add(new String[] {"soak", "descriptors / threads before → after", before[0] + " / " + before[1] + " → "
                + after[0] + " / " + after[1], "", "", "", ""});
        TABLE.add(new String[] {"soak", "heap after GC before → after (MiB)", mib(before[2]) + " → " + mib(after[2]), "", "",
                "", ""});
    }

    // ---------------------------------------------------------------- clients

    /** Receives a stream of binary messages up to its last byte; MB/s of payload, from connect to the last byte. */
    static double streamMBps(String url, String protocol, long expected) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        long[] received = {0};
        boolean[] first = {true};
        boolean channelled = protocol != null;
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                int n = data.remaining();
                if (channelled && first[0] && n > 0) {
                    byte channel = data.get(0);
                    n = channel == 1 || channel == 2 ? n - 1 : 0;
                }
                received[0] += n;
                first[0] = last;
                if (received[0] >= expected) {
                    // the last byte is the end for every system: websocketd ends by dropping the connection,
                    // which the JDK client does not always report
                    done.complete(received[0]);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                done.complete(received[0]);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                done.completeExceptionally(error);
            }
        };
        long began = System.nanoTime();
        WebSocket ws = builder(protocol).buildAsync(URI.create(url), listener).join();
        long bytes = done.get(10, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - began) / 1e9;
        ws.abort();
        if (bytes != expected) {
            throw new IllegalStateException(url + ": " + bytes + " bytes, not " + expected);
        }
        return bytes / 1e6 / seconds;
    }

    /** Connects, waits for "hi" and the close (execgate) or for "hi" (websocketd, which then drops the connection). */
    static void oneShot(String url, String protocol) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        StringBuilder out = new StringBuilder();
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                int from = protocol != null && bytes.length > 0 ? 1 : 0;
                if (protocol == null || bytes.length > 0 && bytes[0] == 1) {
                    out.append(new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8));
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                out.append(data);
                // websocketd's end is a dropped connection, which the JDK client does not always report: its
                // output is the end here (execgate's is the status and the close, a little later)
                if (out.toString().strip().equals("hi")) {
                    done.complete(null);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                done.complete(null);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                done.completeExceptionally(error);
            }
        };
        WebSocket ws = builder(protocol).buildAsync(URI.create(url), listener).join();
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // websocketd drops the connection without a close frame when its process exits: the JDK reports an error
            if (protocol != null) {
                throw e;
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(url + ": no end within 30 s; received " + out, e);
        }
        ws.abort();
        if (!out.toString().strip().equals("hi")) {
            throw new IllegalStateException(url + " said " + out);
        }
    }

    /** A `cat` session: one message out, the same back. */
    static final class EchoSession implements WebSocket.Listener {
        private WebSocket ws;
        private final StringBuilder echoed = new StringBuilder();
        private CompletableFuture<Double> trip;
        private long sent;

        static EchoSession connect(String url) {
            EchoSession session = new EchoSession();
            session.ws = builder(V5).buildAsync(URI.create(url), session).join();
            return session;
        }

        synchronized CompletableFuture<Double> roundTrip() {
            trip = new CompletableFuture<>();
            echoed.setLength(0);
            sent = System.nanoTime();
            ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 'p', 'i', 'n', 'g', '\n'}), true);
            return trip;
        }

        @Override
        public synchronized CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            if (data.remaining() > 1 && data.get(0) == 1) {
                data.get();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                echoed.append(new String(bytes, StandardCharsets.UTF_8));
                if (trip != null && echoed.toString().contains("ping\n")) {
                    trip.complete((System.nanoTime() - sent) / 1e6);
                }
            }
            ws.request(1);
            return null;
        }

        void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
        }
    }

    static WebSocket.Builder builder(String protocol) {
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        if (protocol != null) {
            builder.subprotocols(protocol).header("Authorization", "Bearer " + TOKEN);
        }
        return builder;
    }

    // ---------------------------------------------------------------- HTTP

    static String post(String path, String json) throws Exception {
        return http("POST", path, json);
    }

    static String get(String path) throws Exception {
        return http("GET", path, null);
    }

    static String postStatus(String path, String json) throws Exception {
        HttpResponse<String> response = send("POST", path, json);
        return response.statusCode() / 100 == 2 ? response.body() : null;
    }

    static String http(String method, String path, String json) throws Exception {
        HttpResponse<String> response = send(method, path, json);
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    static HttpResponse<String> send(String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + TOKEN);
        request = json == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\\s*\"?([^\",}]*)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }

    // ---------------------------------------------------------------- processes and measures

    static void startService() throws Exception {
        Path jar;
        try (var jars = Files.newDirectoryStream(Path.of("target"), "execgate-*.jar")) {
            jar = jars.iterator().next();
        }
        port = freePort();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--server.port=" + port,
                "--execgate.data-dir=" + WORK.resolve("data"), "--execgate.security.admin-token=" + TOKEN,
                "--execgate.exec.max-running=1200", "--execgate.exec.max-running-per-principal=1200",
                "--execgate.exec.max-records=2000", "--execgate.stream.max-sessions=1200",
                "--execgate.backends.oci.roots=" + OciFixture.root(WORK)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(WORK.resolve("service.log").toFile());
        service = builder.start();
        CHILDREN.add(service);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // starting
            }
            if (System.nanoTime() > deadline || !service.isAlive()) {
                throw new IllegalStateException("execgate did not start; see " + WORK.resolve("service.log"));
            }
            Thread.sleep(200);
        }
        System.out.println("execgate " + jar + " on port " + port + " (pid " + service.pid() + "), log "
                + WORK.resolve("service.log"));
    }

    static void startPeer(List<String> command, int peerPort) throws Exception {
        Process peer = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(WORK.resolve(command.getFirst().replace('/', '_') + "-" + peerPort + ".log").toFile()).start();
        CHILDREN.add(peer);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (var socket = new java.net.Socket("127.0.0.1", peerPort)) {
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline || !peer.isAlive()) {
                    throw new IllegalStateException(String.join(" ", command) + " did not start");
                }
                Thread.sleep(100);
            }
        }
    }

    static void runProcess(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + " failed");
        }
    }

    /** RSS and heap after a full GC, in bytes. */
    static long[] memory() throws Exception {
        String jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd").toString();
        runProcess(List.of(jcmd, Long.toString(service.pid()), "GC.run"));
        Thread.sleep(500);
        String status = Files.readString(Path.of("/proc/" + service.pid() + "/status"));
        long rss = Long.parseLong(status.replaceAll("(?s).*VmRSS:\\s+(\\d+) kB.*", "$1")) * 1024;
        Process info = new ProcessBuilder(jcmd, Long.toString(service.pid()), "GC.heap_info").start();
        String text = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        info.waitFor();
        Matcher used = Pattern.compile("used (\\d+)K").matcher(text);
        long heap = used.find() ? Long.parseLong(used.group(1)) * 1024 : -1;
        return new long[] {rss, heap};
    }

    /** Open descriptors, threads and heap after GC. */
    static long[] resources() throws Exception {
        long heap = memory()[1];
        long fds;
        try (var list = Files.list(Path.of("/proc/" + service.pid() + "/fd"))) {
            fds = list.count();
        }
        String status = Files.readString(Path.of("/proc/" + service.pid() + "/status"));
        long threads = Long.parseLong(status.replaceAll("(?s).*Threads:\\s+(\\d+).*", "$1"));
        return new long[] {fds, threads, heap};
    }

    interface Action {
        void run() throws Exception;
    }

    interface Measure {
        double run() throws Exception;
    }

    static double[] rounds(Measure measure) throws Exception {
        double[] values = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            values[i] = measure.run();
        }
        return values;
    }

    static int retried;

    /**
     * The JDK client sometimes reports websocketd's dropped connection before the output that came first: such a
     * try is not timed, and the next one is (the count goes in the report).
     */
    static void retrying(Action action) throws Exception {
        for (int tries = 1; ; tries++) {
            try {
                action.run();
                return;
            } catch (IllegalStateException e) {
                if (tries == 5) {
                    throw e;
                }
                retried++;
            }
        }
    }

    static double[] samplesRetrying(int n, Action action) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            for (int tries = 1; ; tries++) {
                long began = System.nanoTime();
                try {
                    action.run();
                    ms[i] = (System.nanoTime() - began) / 1e6;
                    break;
                } catch (IllegalStateException e) {
                    if (tries == 5) {
                        throw e;
                    }
                    retried++;
                }
            }
        }
        Arrays.sort(ms);
        return ms;
    }

    static double[] samples(int n, Action action) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long began = System.nanoTime();
            action.run();
            ms[i] = (System.nanoTime() - began) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    // ---------------------------------------------------------------- the table

    static void row(String group, String what, double[] ours, String peer, double[] theirs, boolean higherIsBetter) {
        double ratio = median(ours) / median(theirs);
        TABLE.add(new String[] {group, what, medianSpread(ours), peer, medianSpread(theirs), fmt(ratio) + "x", ""});
    }

    static void rowPercentiles(String group, String what, double[] ours, String peer, double[] theirs) {
        TABLE.add(new String[] {group, what, percentiles(ours), peer, percentiles(theirs),
                fmt(pct(ours, 50) / pct(theirs, 50)) + "x (p50)", ""});
    }

    static String medianSpread(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return fmt(median(sorted)) + " (" + fmt(sorted[0]) + "–" + fmt(sorted[sorted.length - 1]) + ")";
    }

    static String percentiles(double[] sorted) {
        return fmt(pct(sorted, 50)) + " / " + fmt(pct(sorted, 90)) + " / " + fmt(pct(sorted, 99));
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return pct(sorted, 50);
    }

    static double pct(double[] sorted, double p) {
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static String fmt(double value) {
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.2f", value);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f", bytes / 1048576.0);
    }

    static void printTable() {
        System.out.println();
        System.out.println("| scenario | what | execgate (median (min–max) or p50 / p90 / p99) | peer | peer's | execgate / peer |");
        System.out.println("|---|---|---|---|---|---|");
        for (String[] row : TABLE) {
            System.out.printf("| %s | %s | %s | %s | %s | %s |%n", row[0], row[1], row[2], row[3], row[4], row[5]);
        }
    }

    // ---------------------------------------------------------------- fixtures

    /** A runc container with a busybox rootfs, under a private root, for the runc comparison. */
    static final class OciFixture {
        static String why = "";

        static Path root(Path work) {
            return work.resolve("runc");
        }

        static String start(Path work) throws Exception {
            if (!Files.isExecutable(Path.of("/bin/busybox")) || findInPath("runc") == null) {
                why = "runc and busybox-static are needed";
                return null;
            }
            Path bundle = work.resolve("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs/bin"));
            Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
            for (String applet : List.of("sh", "true", "echo", "cat", "sleep")) {
                Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
            }
            runProcess(List.of("runc", "spec", "--bundle", bundle.toString()));
            String config = Files.readString(bundle.resolve("config.json"))
                    .replace("\"terminal\": true", "\"terminal\": false")
                    .replaceFirst("\"args\": \\[[^]]*]", "\"args\": [\"sleep\", \"100000\"]");
            Files.writeString(bundle.resolve("config.json"), config);
            runProcess(List.of("runc", "--root", root(work).toString(), "run", "-d", "--bundle", bundle.toString(),
                    "bench"));
            CHILDREN.add(new ProcessBuilder("true").start()); // placeholder: the container is removed in stopAll
            return "bench";
        }

        static String findInPath(String name) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                if (Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
            return null;
        }
    }

    static void stopAll() {
        for (Process child : CHILDREN) {
            child.destroy();
        }
        try {
            new ProcessBuilder("runc", "--root", OciFixture.root(WORK).toString(), "delete", "-f", "bench")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException | InterruptedException ignored) {
            // no runc
        }
        CHILDREN.clear();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("execgate-bench");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String cpuModel() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).strip();
            }
        }
        return "unknown cpu";
    }
}
