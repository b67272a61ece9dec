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
import java.util.stream.DoubleStream;

/**
 * execgate's benchmarks, side by side with peers in the same run (bench/run starts this with JDK 25):
 * websocketd for streaming and spawn latency, a bare Node ws server as the client's ceiling, runc exec alone as
 * the floor. One client for every system in each row: Node's ws (bench/ws-client.mjs) for the WebSocket rows, since
 * it reads about twice as fast as the JDK's client here; the JDK's HttpClient for the REST rows; and the JDK's
 * WebSocket client for a second set of streaming rows and the UVM stream.
 *
 * <p>Usage: {@code java bench/Bench.java [--rounds N] [--only throughput,latency,scale,soak,uvm] [--quick] [--keep]}
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
    static boolean keep;
    static List<String> only = List.of("throughput", "latency", "scale", "soak", "uvm");
    static Process service;
    static int port;

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "--quick" -> quick = true;
                case "--keep" -> keep = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be 1 or more, not " + rounds);
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
        if (keep) {
            System.out.println("kept " + WORK + " (logs, data directory, JFR recording)");
        } else {
            removeWork(); // after a failure it stays, for its logs: its path was printed at the start
        }
        System.exit(0);
    }

    // ---------------------------------------------------------------- scenarios

    static void throughput() throws Exception {
        long bytes = quick ? 256L << 20 : 1L << 30;
        String head = "command=head&command=-c&command=" + bytes + "&command=/dev/zero";
        String execgate = "ws://127.0.0.1:" + port + "/api/v1/host/exec?" + head + "&stdout=true&stderr=false";
        int wsdPort = freePort();
        Process wsd = startPeer(List.of("websocketd", "--port=" + wsdPort, "--address=127.0.0.1", "--binary=true",
                "head", "-c", Long.toString(bytes), "/dev/zero"), wsdPort);
        String websocketd = "ws://127.0.0.1:" + wsdPort + "/";
        int nodePort = freePort();
        startPeer(List.of("node", "bench/ws-server.mjs", Integer.toString(nodePort), Long.toString(bytes)), nodePort);
        String node = "ws://127.0.0.1:" + nodePort + "/";
        // Node's ws client reads faster than the JDK's (its ceiling here is the last row's peer): it is the client
        // of the main rows, and the JDK client's rows show what a slower client does to the same servers.
        // The server's own CPU per GiB (not its children's: head is the same for both) says what the client's
        // ceiling hides: how much of the 2 cores each server leaves to the command and the client.
        List<Double> egCpu = new ArrayList<>();
        List<Double> wsdCpu = new ArrayList<>();
        double[][] byNode = interleaved(() -> withCpu(service, bytes, egCpu, () -> nodeStreamMBps(execgate, V5, bytes)),
                () -> withCpu(wsd, bytes, wsdCpu, () -> nodeStreamMBps(websocketd, null, bytes)),
                () -> nodeStreamMBps(node, null, bytes));
        // A terminal moves far less than a pipe (the kernel's line discipline, about 4 KiB per read): a quarter of
        // the bytes, against script(1), a C program relaying the same terminal output to /dev/null.
        long ttyBytes = bytes / 4;
        String ttyHead = "ws://127.0.0.1:" + port + "/api/v1/host/exec?command=head&command=-c&command=" + ttyBytes
                + "&command=/dev/zero&stdout=true&stderr=false&tty=true&stdin=false";
        double[][] byTty = interleaved(() -> nodeStreamMBps(ttyHead, V5, ttyBytes), () -> scriptMBps(ttyBytes));
        double[][] byJdk = interleaved(() -> streamMBps(execgate, V5, bytes), () -> streamMBps(websocketd, null, bytes),
                () -> streamMBps(node, null, bytes));
        String size = bytes == 1L << 30 ? "1 GiB" : (bytes >> 20) + " MiB";
        row("throughput", "stdout " + size + " to a Node ws client (MB/s)", byNode[0], "websocketd --binary", byNode[1], true);
        row("throughput", "same, execgate vs the client's ceiling", byNode[0], "bare Node ws server", byNode[2], true);
        // the first value of each is the untimed warm-up round's
        row("throughput", "the server's own CPU per GiB streamed (CPU-s; lower is better)",
                egCpu.subList(1, egCpu.size()).stream().mapToDouble(Double::doubleValue).toArray(), "websocketd --binary",
                wsdCpu.subList(1, wsdCpu.size()).stream().mapToDouble(Double::doubleValue).toArray(), true);
        row("throughput", "through a tty, " + (ttyBytes >> 20) + " MiB, Node ws client (MB/s)", byTty[0],
                "script(1) to /dev/null", byTty[1], true);
        row("throughput", "stdout " + size + " to the JDK's WebSocket client (MB/s)", byJdk[0], "websocketd --binary",
                byJdk[1], true);
        row("throughput", "same, execgate vs the JDK client's ceiling", byJdk[0], "bare Node ws server", byJdk[2], true);
    }

    static void latency() throws Exception {
        int n = quick ? 200 : 500;
        // Warm up the JIT and the connection pool on both sides. A service is measured as it runs, warm: a few
        // hundred requests leave Tomcat, Spring and the exec path in the interpreter or C1 (the p50 of REST create +
        // wait fell from 10 to 3.5 ms on this machine between the first 500 execs and those after 2,000).
        int warm = quick ? 1000 : 3000;
        for (int i = 0; i < warm; i++) {
            post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}");
            String id = field(post("/api/v1/host/execs", "{\"command\": [\"true\"]}"), "id");
            get("/api/v1/execs/" + id + "/exit?wait=PT30S");
        }
        double[] create = samples(n, () -> {
            String id = field(post("/api/v1/host/execs", "{\"command\": [\"true\"]}"), "id");
            get("/api/v1/execs/" + id + "/exit?wait=PT30S");
        });
        Path life = WORK.resolve("exec-life.jfr");
        jdkTool("jcmd", Long.toString(service.pid()), "JFR.start", "name=life", "settings=none",
                "+io.execgate.ExecLife#enabled=true", "filename=" + life);
        double[] run = samples(n, () -> post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}"));
        jdkTool("jcmd", Long.toString(service.pid()), "JFR.stop", "name=life");
        double[] floor = samples(n, () -> runProcess(List.of("true")));
        rowPercentiles("latency", "REST create + exit wait of `true` on the host (ms)", create, "fork+exec `true` from Java", floor);
        rowPercentiles("latency", "POST .../execs/run of `true` (ms)", run, "fork+exec `true` from Java", floor);
        lifeRow(life);

        // The peer for spawn latency is websocketd --binary: binary frames, as the channel protocol's. Its
        // text mode (a text frame per output line) answers faster, since --binary reads each connection's output
        // into a fresh 10 MiB buffer that Go zeroes; it is measured too, as the stricter reference.
        int binaryPort = freePort();
        Process binary = startPeer(List.of("websocketd", "--port=" + binaryPort, "--address=127.0.0.1", "--binary=true",
                "echo", "hi"), binaryPort);
        int textPort = freePort();
        Process text = startPeer(List.of("websocketd", "--port=" + textPort, "--address=127.0.0.1", "echo", "hi"),
                textPort);
        String[] urls = {"ws://127.0.0.1:" + port + "/api/v1/host/exec?command=echo&command=hi&stdout=true&stderr=false",
                "ws://127.0.0.1:" + binaryPort + "/", "ws://127.0.0.1:" + textPort + "/"};
        String[] protocols = {V5, null, null};
        long[] pids = {service.pid(), binary.pid(), text.pid()};
        // warm-up, all sides alike; the WebSocket path has code of its own that the JIT takes longer to finish (C2
        // still compiled after 4,000 one-step execs here, which then took 4 ms against 2.3 ms after 10,000)
        int warmOneStep = quick ? warm : 8000;
        for (int s = 0; s < urls.length; s++) {
            nodeOneShots(urls[s], protocols[s], warmOneStep);
        }
        // Timed in rounds that alternate the three servers. The server's own CPU per exec (not its children's: echo
        // is the same for all) shows what bounds the latency on two cores shared with the client and the command.
        double[][] times = new double[urls.length][0];
        double[][] cpu = new double[urls.length][rounds]; // ms per exec, per round
        for (int round = 0; round < rounds; round++) {
            int count = n / rounds + (round < n % rounds ? 1 : 0);
            for (int s = 0; s < urls.length; s++) {
                long before = cpuTicks(pids[s]);
                double[] these = nodeOneShots(urls[s], protocols[s], count);
                cpu[s][round] = ticksToMillis(cpuTicks(pids[s]) - before) / count;
                times[s] = DoubleStream.concat(Arrays.stream(times[s]), Arrays.stream(these)).sorted().toArray();
            }
        }
        rowPercentiles("latency", "one-step WebSocket `echo hi`, connect to close, Node ws client (ms)", times[0],
                "websocketd --binary `echo hi`", times[1]);
        rowPercentiles("latency", "the same, against websocketd's text mode (ms)", times[0], "websocketd `echo hi`, text",
                times[2]);
        row("latency", "the server's own CPU per one-step exec (ms; lower is better)", cpu[0],
                "websocketd --binary `echo hi`", cpu[1], false);
        row("latency", "the server's own CPU per one-step exec, against websocketd's text mode (ms)", cpu[0],
                "websocketd `echo hi`, text", cpu[2], false);

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
        long[][] at = new long[2][];
        long[] egTicks = new long[2];
        ScaleResult eg = nodeScale(url, V5, sessions, stage -> {
            if (stage < 2) {
                at[stage] = memory();
            } else {
                egTicks[stage - 2] = cpuTicks(service.pid());
            }
        });
        int wsdPort = freePort();
        Process wsdProcess = startPeer(List.of("websocketd", "--port=" + wsdPort, "--address=127.0.0.1",
                "--maxforks=" + (sessions + 10), "--binary=true", "cat"), wsdPort);
        long[] wsdTicks = new long[2];
        ScaleResult wsd = nodeScale("ws://127.0.0.1:" + wsdPort + "/", null, sessions, stage -> {
            if (stage >= 2) {
                wsdTicks[stage - 2] = cpuTicks(wsdProcess.pid());
            }
        });
        String who = sessions + " attached `cat` sessions, ";
        String peer = "websocketd --binary `cat`";
        rowPercentiles("scale", who + "\"ping\" through every one at once, the first time (ms)", eg.first, peer, wsd.first);
        rowPercentiles("scale", who + "ten more such bursts, after five untimed (ms)", eg.later, peer, wsd.later);
        // A burst is bound by CPU: the last echo comes once everything queued before it is done on 2 cores
        row("scale", "the server's own CPU per echoed message in those ten bursts (µs; lower is better)",
                new double[] {ticksToMillis(egTicks[1] - egTicks[0]) * 1000 / eg.later.length}, peer,
                new double[] {ticksToMillis(wsdTicks[1] - wsdTicks[0]) * 1000 / wsd.later.length}, false);
        rowPercentiles("scale", who + "\"ping\" through one at a time, round robin (ms)", eg.single, peer, wsd.single);
        TABLE.add(new String[] {"scale", "service RSS at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[0]) + " / " + mib(at[0][0]) + " / " + mib(at[1][0]), "", "", "", ""});
        TABLE.add(new String[] {"scale", "heap after GC at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[1]) + " / " + mib(at[0][1]) + " / " + mib(at[1][1]), "", "", "", ""});
        TABLE.add(new String[] {"scale", "per idle session: RSS / heap (KiB)", (at[1][0] - base[0]) / 1024 / sessions
                + " / " + (at[1][1] - base[1]) / 1024 / sessions, "", "", "", ""});
    }

    static void soak() throws Exception {
        int n = quick ? 2000 : 20000;
        for (int i = 0; i < 200; i++) { // warm: the pools and caches a first burst fills are not growth
            post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}");
        }
        // Idle pooled threads (BlockingThreads) end 10 s after their last task: what the scenarios before this one
        // needed must be gone before counting, and what the soak needed after it.
        Thread.sleep(15_000);
        long[] before = resources();
        java.util.Set<String> fdsBefore = descriptors();
        AtomicInteger left = new AtomicInteger(n);
        List<Thread> workers = new ArrayList<>();
        long began = System.nanoTime();
        // A client of its own, closed at the end: its four keep-alive connections are the client's, not the
        // service's, and must not count as descriptors the soak left open.
        HttpClient soakClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int w = 0; w < 4; w++) {
            workers.add(Thread.ofPlatform().start(() -> {
                while (left.getAndDecrement() > 0) {
                    try {
                        HttpResponse<String> response = soakClient.send(request("POST", "/api/v1/host/execs/run",
                                "{\"command\": [\"true\"]}"), HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() != 200) {
                            throw new IllegalStateException("execs/run: " + response.statusCode() + " " + response.body());
                        }
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
        soakClient.close();
        Thread.sleep(15_000);
        long[] after = resources();
        java.util.Set<String> opened = descriptors();
        opened.removeAll(fdsBefore);
        if (!opened.isEmpty()) {
            System.out.println("descriptors the soak left open: " + opened);
        }
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

    /** MB/s of {@code bytes} of zeros through a terminal that script(1) relays to /dev/null: the tty's floor. */
    static double scriptMBps(long bytes) throws Exception {
        long began = System.nanoTime();
        Process script = new ProcessBuilder("script", "-qfec", "head -c " + bytes + " /dev/zero", "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (script.waitFor() != 0) {
            throw new IllegalStateException("script(1) failed: " + script.exitValue());
        }
        return bytes / 1e6 / ((System.nanoTime() - began) / 1e9);
    }

    /** The same measure with Node's ws client (bench/ws-client.mjs stream), which prints MB/s. */
    static double nodeStreamMBps(String url, String protocol, long expected) throws Exception {
        Process client = nodeClient("stream", url, expected, protocol);
        String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        awaitNode(client, url, out);
        return Double.parseDouble(out);
    }

    /** {@code count} one-step execs of {@code echo hi} in a row through the Node client; sorted times in ms. */
    static double[] nodeOneShots(String url, String protocol, int count) throws Exception {
        Process client = nodeClient("oneshot", url, count, protocol);
        String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        awaitNode(client, url, out);
        double[] ms = out.lines().mapToDouble(Double::parseDouble).sorted().toArray();
        if (ms.length != count) {
            throw new IllegalStateException(url + ": " + ms.length + " one-step execs timed, not " + count);
        }
        return ms;
    }

    /** Round trips through many sessions (sorted, ms): the first burst, ten later bursts, one at a time. */
    record ScaleResult(double[] first, double[] later, double[] single) {
    }

    interface Stage {
        void reached(int stage) throws Exception;
    }

    /**
     * Runs the Node client's scale mode; {@code stage} is called at 100 sessions (0), at all of them (1), before the
     * timed bursts (2) and after them (3).
     */
    static ScaleResult nodeScale(String url, String protocol, int sessions, Stage stage) throws Exception {
        Process client = nodeClient("scale", url, sessions, protocol);
        var lines = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
        var go = client.outputWriter(StandardCharsets.UTF_8);
        String line;
        int stages = 0;
        String result = null;
        while ((line = lines.readLine()) != null) {
            if (line.startsWith("connected ") || line.startsWith("timed")) {
                if (stages == 1) {
                    Thread.sleep(2000); // let the last sessions settle before measuring
                }
                stage.reached(stages++);
                go.write("go\n");
                go.flush();
            } else if (line.startsWith("{")) {
                result = line;
            }
        }
        awaitNode(client, url, result);
        if (result == null) {
            throw new IllegalStateException(url + ": the scale client gave no result");
        }
        return new ScaleResult(numbers(result, "first"), numbers(result, "later"), numbers(result, "single"));
    }

    /** A JSON array of numbers by name, from the scale client's one-line result; sorted. */
    static double[] numbers(String json, String name) {
        int from = json.indexOf('[', json.indexOf("\"" + name + "\""));
        String list = json.substring(from + 1, json.indexOf(']', from));
        return Arrays.stream(list.split(",")).mapToDouble(Double::parseDouble).sorted().toArray();
    }

    static Process nodeClient(String mode, String url, long count, String protocol) throws IOException {
        List<String> command = new ArrayList<>(List.of("node", "bench/ws-client.mjs", mode, url, Long.toString(count)));
        if (protocol != null) {
            command.addAll(List.of(protocol, TOKEN));
        }
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    static void awaitNode(Process client, String url, String out) throws InterruptedException {
        if (!client.waitFor(10, TimeUnit.MINUTES) || client.exitValue() != 0) {
            client.destroyForcibly();
            throw new IllegalStateException("the Node client failed on " + url + (out == null ? "" : ": " + out));
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
        return HTTP.send(request(method, path, json), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest request(String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + TOKEN);
        request = json == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        return request.build();
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
                "--execgate.stream.max-sessions-per-principal=1200",
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

    /** Runs a measure and notes the CPU seconds per GiB that {@code server} itself (not its children) spent on it. */
    static double withCpu(Process server, long bytes, List<Double> cpu, Measure measure) throws Exception {
        long before = cpuTicks(server.pid());
        double value = measure.run();
        cpu.add((cpuTicks(server.pid()) - before) / 100.0 / (bytes / (double) (1L << 30)));
        return value;
    }

    /** Clock ticks in milliseconds. */
    static double ticksToMillis(long ticks) {
        return ticks * 10.0;
    }

    /** utime + stime of a process, in clock ticks (100 a second on Linux). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static Process startPeer(List<String> command, int peerPort) throws Exception {
        Process peer = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(WORK.resolve(command.getFirst().replace('/', '_') + "-" + peerPort + ".log").toFile()).start();
        CHILDREN.add(peer);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (var socket = new java.net.Socket("127.0.0.1", peerPort)) {
                return peer;
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

    /**
     * The phases of the {@code execs/run} execs inside the service, from its {@code io.execgate.ExecLife} JFR
     * events (see ExecLifeEvent): p50 of each, in ms. What is left of the client's figure is the HTTP path.
     */
    static void lifeRow(Path recording) throws Exception {
        String json = jdkTool("jfr", "print", "--json", "--events", "io.execgate.ExecLife", recording.toString());
        List<String> phases = List.of("admit", "spawn", "follow", "run", "drain", "record", "duration");
        StringBuilder figures = new StringBuilder();
        for (String phase : phases) {
            Matcher m = Pattern.compile("\"" + phase + "\": \"PT([0-9.]+)S\"").matcher(json);
            List<Double> values = new ArrayList<>();
            while (m.find()) {
                values.add(Double.parseDouble(m.group(1)) * 1000);
            }
            if (values.isEmpty()) {
                System.out.println("no io.execgate.ExecLife events were recorded");
                return;
            }
            double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            figures.append(figures.isEmpty() ? "" : " / ").append(fmt(pct(sorted, 50)));
        }
        TABLE.add(new String[] {"latency", "the same inside the service, p50 per phase (JFR io.execgate.ExecLife, ms): "
                + "admit / spawn / follow / run / drain / record; whole life", figures.toString(), "", "", "", ""});
    }

    /** Runs a tool of the JDK that runs this (jcmd, jfr) and returns what it printed. */
    static String jdkTool(String tool, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling(tool).toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + " failed: " + out);
        }
        return out;
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
    /** The service's open descriptors, as "fd -> what it is". */
    static java.util.Set<String> descriptors() throws IOException {
        java.util.Set<String> open = new java.util.TreeSet<>();
        try (var list = Files.list(Path.of("/proc/" + service.pid() + "/fd"))) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    open.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                } catch (IOException gone) {
                    // closed while listed
                }
            }
        }
        return open;
    }

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

    /**
     * Rounds of several measures taken in turn (A B C, A B C, ...), so that a noisy spell hits all of them, after
     * one untimed round each that warms the JIT (and the page cache) for every system alike.
     */
    static double[][] interleaved(Measure... measures) throws Exception {
        for (Measure measure : measures) {
            measure.run();
        }
        double[][] values = new double[measures.length][rounds];
        for (int i = 0; i < rounds; i++) {
            for (int m = 0; m < measures.length; m++) {
                values[m][i] = measures[m].run();
            }
        }
        return values;
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
        for (Process child : CHILDREN) {
            try {
                if (!child.waitFor(20, TimeUnit.SECONDS)) {
                    child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // (runc makes a --root that is not there: after the work directory is gone, there is nothing to delete)
        if (!Files.isDirectory(OciFixture.root(WORK))) {
            CHILDREN.clear();
            return;
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

    /** Removes the run's work directory (its links are removed, never followed). */
    static void removeWork() throws IOException {
        try (var paths = Files.walk(WORK)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
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
