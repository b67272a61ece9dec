import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.DoubleStream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * execgate's benchmarks, side by side with peers in the same run (bench/run starts this with JDK 25):
 * websocketd for streaming and spawn latency, a bare Node ws server as the client's ceiling, runc exec alone as
 * the floor. One client for every system in each row: Node's ws (bench/ws-client.mjs) for the WebSocket rows, since
 * it reads about twice as fast as the JDK's client here; the JDK's HttpClient for the REST rows; and the JDK's
 * WebSocket client for a second set of streaming rows and the UVM stream.
 *
 * <p>Every wait on something outside this process has a deadline: a peer, a command or a request that overruns it
 * is killed (or abandoned, for a request) and fails the run with a message that names it. A failed run still
 * prints the rows it measured before the failure, marked incomplete, and exits with 1.
 *
 * <p>Usage: {@code java bench/Bench.java [--rounds N] [--only throughput,latency,uvm,scale,soak] [--quick] [--keep]
 * [--jar PATH]}
 */
public class Bench {

    static final String V5 = "v5.channel.k8s.io";
    static final String TOKEN = "bench-" + HexFormat.of().formatHex(java.security.SecureRandom.getSeed(8));
    static final List<String> SCENARIOS = List.of("throughput", "latency", "uvm", "scale", "soak");

    // Deadlines, generous on purpose: they are there to end a run that hangs, not to judge a slow machine.
    /** One HTTP request and its answer (the longest the harness asks for is an exit wait of 30 s). */
    static final Duration REQUEST = Duration.ofSeconds(60);
    /** A first exec into a booting UVM, which waits for the boot (2 to 4 s emulated, more on a busy machine). */
    static final Duration UVM_BOOT = Duration.ofMinutes(3);
    /** One short command: a fork and exec, runc exec, jcmd, git. */
    static final Duration COMMAND = Duration.ofSeconds(60);
    /** One stream (1 GiB, even through a tty at tens of MB/s), or one step of the scale client. */
    static final Duration STREAM = Duration.ofMinutes(5);
    /** One batch of a client's one-step execs (up to 8,000 of them in the warm-up). */
    static final Duration BATCH = Duration.ofMinutes(10);

    /** Every child process still running, so that stopAll (also run on SIGTERM, as a shutdown hook) ends it. */
    static final Set<Process> CHILDREN = new LinkedHashSet<>();
    static final List<String[]> TABLE = new ArrayList<>();
    /** Reads children's output on the side, so that a deadline holds while a child writes nothing. */
    static final Executor READERS = task -> Thread.ofVirtual().start(task);

    /** The run's work directory (logs, data directory, bundle, recording), made once the arguments are good. */
    static Path WORK;
    static HttpClient http = newHttpClient();
    static boolean stopping;
    static int rounds = 3;
    static boolean quick;
    static boolean keep;
    static List<String> only = SCENARIOS;
    static Path jar;
    static Process service;
    static int port;

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "--quick" -> quick = true;
                case "--keep" -> keep = true;
                case "--jar" -> jar = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be 1 or more, not " + rounds);
        }
        for (String scenario : only) {
            if (!SCENARIOS.contains(scenario)) {
                throw new IllegalArgumentException("--only takes " + String.join(",", SCENARIOS) + ", not " + scenario);
            }
        }
        WORK = Files.createTempDirectory("execgate-bench");
        Runtime.getRuntime().addShutdownHook(new Thread(Bench::stopAll));
        System.out.printf("machine: %s, %d cpus, %s; load %s%n", cpuModel(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.version"), Files.readString(Path.of("/proc/loadavg")).strip());
        String step = "the start of the service";
        try {
            System.out.println("commit: " + commit());
            startService();
            for (String scenario : SCENARIOS) { // always in this order, whatever order --only names them in
                if (only.contains(scenario)) {
                    step = "the " + scenario + " scenario";
                    switch (scenario) {
                        case "throughput" -> throughput();
                        case "latency" -> latency();
                        case "uvm" -> uvm();
                        case "scale" -> scale();
                        default -> soak();
                    }
                }
            }
        } catch (Exception | Error failure) {
            // The rows measured before the failure are still worth having (and the failure may be a late one):
            // print them, marked, then fail the run. The work directory stays, for its logs.
            printTable("INCOMPLETE: the run failed in " + step + "; these are the rows measured before it.");
            System.out.flush();
            System.err.println();
            System.err.println("bench: the run failed in " + step + ": " + failure.getMessage());
            failure.printStackTrace();
            stopAll();
            System.err.println("bench: the work directory stays, for its logs: " + WORK);
            System.exit(1);
        }
        printTable(null);
        stopAll();
        if (keep) {
            System.out.println("kept " + WORK + " (logs, data directory, JFR recording)");
        } else {
            removeWork();
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
        String size = bytes == 1L << 30 ? "1 GiB" : (bytes >> 20) + " MiB";
        // Each pair of rows goes into the table as soon as it is measured: a later failure keeps it
        double[][] byNode = interleaved(() -> withCpu(service, bytes, egCpu, () -> nodeStreamMBps(execgate, V5, bytes)),
                () -> withCpu(wsd, bytes, wsdCpu, () -> nodeStreamMBps(websocketd, null, bytes)),
                () -> nodeStreamMBps(node, null, bytes));
        row("throughput", "stdout " + size + " to a Node ws client (MB/s)", byNode[0], "websocketd --binary", byNode[1]);
        row("throughput", "same, execgate vs the client's ceiling", byNode[0], "bare Node ws server", byNode[2]);
        // the first value of each is the untimed warm-up round's
        row("throughput", "the server's own CPU per GiB streamed (CPU-s; lower is better)",
                egCpu.subList(1, egCpu.size()).stream().mapToDouble(Double::doubleValue).toArray(), "websocketd --binary",
                wsdCpu.subList(1, wsdCpu.size()).stream().mapToDouble(Double::doubleValue).toArray());
        // A terminal moves far less than a pipe (the kernel's line discipline, about 4 KiB per read), against
        // script(1), a C program relaying the same terminal output to /dev/null. The same bytes as the pipe rows
        // (issue 11): 1 GiB, or 256 MiB with --quick.
        String ttyHead = "ws://127.0.0.1:" + port + "/api/v1/host/exec?" + head
                + "&stdout=true&stderr=false&tty=true&stdin=false";
        double[][] byTty = interleaved(() -> nodeStreamMBps(ttyHead, V5, bytes), () -> scriptMBps(bytes));
        row("throughput", "through a tty, " + size + ", Node ws client (MB/s)", byTty[0], "script(1) to /dev/null",
                byTty[1]);
        // The JDK client sometimes corrupts what arrives right behind the 101, whichever server sent it (README, "The
        // JDK's own client"; bench/handover shows it without execgate): such a stream is retried, counted and
        // reported, rather than ending the run; one that fails three times in a row still does.
        int[] retried = new int[3];
        double[][] byJdk = interleaved(() -> jdkStreamMBps(execgate, V5, bytes, retried, 0),
                () -> jdkStreamMBps(websocketd, null, bytes, retried, 1), () -> jdkStreamMBps(node, null, bytes, retried, 2));
        if (retried[0] + retried[1] + retried[2] > 0) {
            System.out.printf(Locale.ROOT, "throughput: the JDK client broke %d stream(s) with its handover bug, each "
                    + "measured again: %d from execgate, %d from websocketd, %d from the bare Node server%n",
                    retried[0] + retried[1] + retried[2], retried[0], retried[1], retried[2]);
        }
        row("throughput", "stdout " + size + " to the JDK's WebSocket client (MB/s)", byJdk[0], "websocketd --binary",
                byJdk[1]);
        row("throughput", "same, execgate vs the JDK client's ceiling", byJdk[0], "bare Node ws server", byJdk[2]);
    }

    static void latency() throws Exception {
        int n = quick ? 200 : 500;
        String trueBody = "{\"command\": [\"true\"]}";
        // The execs/run row's phases come from a JFR recording in the service. It starts before the warm-up, so
        // that both REST rows are measured with it on and with the JIT warmed with it on: the two rows and the
        // floor alternate below, under the same conditions.
        Path life = WORK.resolve("exec-life.jfr");
        jdkTool("jcmd", Long.toString(service.pid()), "JFR.start", "name=life", "settings=none",
                "+io.execgate.ExecLife#enabled=true", "filename=" + life);
        // Warm up the JIT and the connection pool on both sides. A service is measured as it runs, warm: a few
        // hundred requests leave Tomcat, Spring and the exec path in the interpreter or C1 (the p50 of REST create +
        // wait fell from 10 to 3.5 ms on this machine between the first 500 execs and those after 2,000).
        int warm = quick ? 1000 : 3000;
        for (int i = 0; i < warm; i++) {
            post("/api/v1/host/execs/run", trueBody);
            String id = field(post("/api/v1/host/execs", trueBody), "id");
            get("/api/v1/execs/" + id + "/exit?wait=PT30S");
        }
        for (int i = 0; i < 200; i++) { // the floor's first spawns load classes and warm ProcessBuilder's path
            run(List.of("true"), "fork+exec of true");
        }
        // The execs/run responses of the timed samples: their exec ids pick the recording's events of these execs
        // (and not the warm-up's or the create + wait row's)
        List<String> runs = new ArrayList<>();
        double[][] rest = alternatingSamples(n, () -> {
            String id = field(post("/api/v1/host/execs", trueBody), "id");
            get("/api/v1/execs/" + id + "/exit?wait=PT30S");
        }, () -> runs.add(post("/api/v1/host/execs/run", trueBody)), () -> run(List.of("true"), "fork+exec of true"));
        jdkTool("jcmd", Long.toString(service.pid()), "JFR.stop", "name=life");
        rowPercentiles("latency", "REST create + exit wait of `true` on the host (ms)", rest[0],
                "fork+exec `true` from Java", rest[2]);
        rowPercentiles("latency", "POST .../execs/run of `true` (ms)", rest[1], "fork+exec `true` from Java", rest[2]);
        Set<String> timedIds = new java.util.HashSet<>();
        for (String body : runs) {
            timedIds.add(field(body, "id"));
        }
        lifeRow(life, timedIds);

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
        // /proc counts CPU in ticks of 10 ms, and a round of a full run (167 execs of 0.7 to 2.5 ms of the server's
        // CPU each) is only 12 to 40 of them: one tick moves a round's figure by 3 to 8 %. The row gives the figure
        // pooled over all rounds (all ticks / all execs) and the rounds' range beside it.
        double[][] times = new double[urls.length][0];
        double[][] cpu = new double[urls.length][rounds]; // ms per exec, per round
        long[] ticks = new long[urls.length];
        for (int round = 0; round < rounds; round++) {
            int count = share(n, round);
            for (int s = 0; s < urls.length && count > 0; s++) {
                long before = cpuTicks(pids[s]);
                double[] these = nodeOneShots(urls[s], protocols[s], count);
                long spent = cpuTicks(pids[s]) - before;
                ticks[s] += spent;
                cpu[s][round] = ticksToMillis(spent) / count;
                times[s] = DoubleStream.concat(Arrays.stream(times[s]), Arrays.stream(these)).sorted().toArray();
            }
        }
        double[] pooled = new double[urls.length];
        for (int s = 0; s < urls.length; s++) {
            pooled[s] = ticksToMillis(ticks[s]) / n;
        }
        rowPercentiles("latency", "one-step WebSocket `echo hi`, connect to close, Node ws client (ms)", times[0],
                "websocketd --binary `echo hi`", times[1]);
        rowPercentiles("latency", "the same, against websocketd's text mode (ms)", times[0], "websocketd `echo hi`, text",
                times[2]);
        rowPooled("latency", "the server's own CPU per one-step exec (ms, all rounds pooled (rounds' min–max); lower is "
                + "better)", pooled[0], cpu[0], "websocketd --binary `echo hi`", pooled[1], cpu[1]);
        rowPooled("latency", "the server's own CPU per one-step exec, against websocketd's text mode (ms, pooled as "
                + "above)", pooled[0], cpu[0], "websocketd `echo hi`, text", pooled[2], cpu[2]);

        String container = OciFixture.start(WORK);
        if (container != null) {
            // Both sides warm, then alternating rounds: a runc exec is tens of ms, and this machine's speed moves
            // within minutes
            int m = quick ? 60 : 500;
            String path = "/api/v1/containers/" + container + "/execs/run";
            List<String> runcExec = List.of("runc", "--root", OciFixture.root(WORK).toString(), "exec", container, "true");
            for (int i = 0; i < (quick ? 10 : 30); i++) {
                post(path, trueBody);
                run(runcExec, "runc exec");
            }
            double[][] runc = alternatingSamples(m, () -> post(path, trueBody), () -> run(runcExec, "runc exec"));
            rowPercentiles("latency", "`true` in a runc container through execgate (ms)", runc[0], "runc exec alone",
                    runc[1]);
        } else {
            System.out.println("skipping the runc comparison: " + OciFixture.why);
        }
    }

    static void uvm() throws Exception {
        // The clock starts before the POST: it answers at once (the VM booting), and the first exec waits for the boot
        long began = System.nanoTime();
        HttpResponse<String> created = send(http, "POST", "/api/v1/uvms", "{\"id\": \"bench\"}", REQUEST);
        if (created.statusCode() / 100 != 2) {
            System.out.println("skipping UVMs: POST /api/v1/uvms answered " + created.statusCode() + " " + created.body()
                    + "; the host: " + get("/api/v1/host"));
            return;
        }
        Exception failure = null;
        try {
            http("POST", "/api/v1/uvms/bench/execs/run", "{\"command\": [\"true\"]}", UVM_BOOT);
            double bootToExec = (System.nanoTime() - began) / 1e6;
            String info = get("/api/v1/uvms/bench");
            double bootMillis = Double.parseDouble(field(info, "bootMillis"));
            // The target is "under 3 s without KVM": which one this was, as the service chose it (its accel), and
            // why, by the service's own test (QemuCommandLine.kvmUsable)
            String accel = field(info, "accel");
            String how = accel.equals("kvm") ? "KVM" : accel + ", no KVM: " + kvmCheck();
            TABLE.add(new String[] {"uvm", "POST /api/v1/uvms to the first exec's end (ms; boot " + (long) bootMillis
                    + " ms; " + how + ")", fmt(bootToExec), "", "", ""});
            String echo = "{\"command\": [\"echo\", \"hi\"]}";
            int n = quick ? 50 : 200;
            for (int i = 0; i < 20; i++) { // both sides warm: the guest's first execs page in busybox and the agent
                post("/api/v1/uvms/bench/execs/run", echo);
                post("/api/v1/host/execs/run", echo);
            }
            double[][] echoes = alternatingSamples(n, () -> post("/api/v1/uvms/bench/execs/run", echo),
                    () -> post("/api/v1/host/execs/run", echo));
            rowPercentiles("uvm", "execs/run `echo hi` in a running UVM (ms)", echoes[0], "the same on the host",
                    echoes[1]);
            long bytes = quick ? 32L << 20 : 100L << 20;
            double[] stream = rounds(() -> streamMBps("ws://127.0.0.1:" + port + "/api/v1/uvms/bench/exec?command=dd"
                    + "&command=if=/dev/zero&command=bs=65536&command=count=" + (bytes / 65536) + "&stdout=true"
                    + "&stderr=false", V5, bytes));
            TABLE.add(new String[] {"uvm", "dd of " + (bytes >> 20) + " MiB from a UVM to a WebSocket client (MB/s)",
                    medianSpread(stream), "", "", ""});
        } catch (Exception e) {
            failure = e;
            throw e;
        } finally {
            // Whatever happened, the VM goes: a QEMU left behind would take a core from every later row
            try {
                http("DELETE", "/api/v1/uvms/bench", null, REQUEST);
            } catch (Exception e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            }
        }
    }

    static void scale() throws Exception {
        int sessions = quick ? 200 : 1000;
        long[] base = memory();
        String url = "ws://127.0.0.1:" + port + "/api/v1/host/exec?command=cat&stdin=true&stdout=true&stderr=false";
        long[][] at = new long[2][];
        long[] egTicks = new long[2];
        // Not alternated: each system holds all its sessions at once, and two sets of 1,000 would measure both
        // at half a machine. execgate first, then websocketd once every session of execgate's is gone.
        ScaleResult eg = nodeScale(url, V5, sessions, stage -> {
            if (stage < 2) {
                at[stage] = memory();
            } else {
                egTicks[stage - 2] = cpuTicks(service.pid());
            }
        });
        awaitIdleService(sessions + " sessions");
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
        // A burst is bound by CPU: the last echo comes once everything queued before it is done on 2 cores. One
        // measurement per system (the CPU over all ten bursts), so one figure each, not a median.
        double egMicros = ticksToMillis(egTicks[1] - egTicks[0]) * 1000 / eg.later.length;
        double wsdMicros = ticksToMillis(wsdTicks[1] - wsdTicks[0]) * 1000 / wsd.later.length;
        row("scale", "the server's own CPU per echoed message in those ten bursts (µs, one measurement; lower is better)",
                new double[] {egMicros}, peer, new double[] {wsdMicros});
        rowPercentiles("scale", who + "\"ping\" through one at a time, round robin (ms)", eg.single, peer, wsd.single);
        TABLE.add(new String[] {"scale", "service RSS at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[0]) + " / " + mib(at[0][0]) + " / " + mib(at[1][0]), "", "", ""});
        TABLE.add(new String[] {"scale", "heap after GC at 0 / 100 / " + sessions + " sessions (MiB)",
                mib(base[1]) + " / " + mib(at[0][1]) + " / " + mib(at[1][1]), "", "", ""});
        TABLE.add(new String[] {"scale", "per idle session: RSS / heap (KiB)", (at[1][0] - base[0]) / 1024 / sessions
                + " / " + (at[1][1] - base[1]) / 1024 / sessions, "", "", ""});
    }

    static void soak() throws Exception {
        int n = quick ? 2000 : 20000;
        String body = "{\"command\": [\"true\"]}";
        // Both counts must see the same connections of the harness's: none. The JDK client keeps an idle
        // connection for 30 s, so the warm-up has a client of its own, closed before the first count, and the
        // shared client (with a connection left, maybe, by the scenarios before) is closed and replaced by one
        // that has not connected yet. The soak's client is closed before the second count.
        try (HttpClient warmClient = newHttpClient()) {
            for (int i = 0; i < 200; i++) { // warm: the pools and caches a first burst fills are not growth
                http(warmClient, "POST", "/api/v1/host/execs/run", body, REQUEST);
            }
        }
        http.close();
        http = newHttpClient();
        // Idle pooled threads (BlockingThreads) end 10 s after their last task: what the scenarios before this one
        // needed must be gone before counting, and what the soak needed after it.
        Thread.sleep(15_000);
        long[] before = resources();
        Set<String> fdsBefore = descriptors();
        AtomicInteger left = new AtomicInteger(n);
        AtomicInteger completed = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        double seconds;
        try (HttpClient soakClient = newHttpClient()) {
            List<Thread> workers = new ArrayList<>();
            long began = System.nanoTime();
            for (int w = 0; w < 4; w++) {
                workers.add(Thread.ofPlatform().name("soak-" + w).start(() -> {
                    // A failure stops every worker (no point in 20,000 more errors) and fails the run below, once
                    // the workers have ended and the client is closed
                    while (failure.get() == null && left.getAndDecrement() > 0) {
                        try {
                            http(soakClient, "POST", "/api/v1/host/execs/run", body, REQUEST);
                            completed.incrementAndGet();
                        } catch (Exception | Error e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join(); // each of a worker's requests has a deadline, so a hung service ends it too
            }
            seconds = (System.nanoTime() - began) / 1e9;
        }
        // the execs that completed, not the ones asked for: after a failure they are fewer
        TABLE.add(new String[] {"soak", completed.get() + " execs/run of `true`, 4 clients (execs/s)"
                + (failure.get() == null ? "" : ", stopped by a failure after " + completed.get() + " of " + n),
                fmt(completed.get() / seconds), "", "", ""});
        if (failure.get() != null) {
            throw new IllegalStateException("a soak client failed after " + completed.get() + " of " + n + " execs: "
                    + failure.get().getMessage(), failure.get());
        }
        Thread.sleep(15_000);
        long[] after = resources();
        Set<String> opened = descriptors();
        opened.removeAll(fdsBefore);
        TABLE.add(new String[] {"soak", "descriptors / threads before → after", before[0] + " / " + before[1] + " → "
                + after[0] + " / " + after[1], "", "", ""});
        TABLE.add(new String[] {"soak", "heap after GC before → after (MiB)", mib(before[2]) + " → " + mib(after[2]), "", "",
                ""});
        // The soak's point: nothing grows. Descriptors and threads are counts that must come back; the heap after
        // a full GC may move by a few MiB of caches, so its growth is told, not judged.
        System.out.printf("soak: descriptors %d → %d (%s), threads %d → %d (%s), heap after GC %s → %s MiB (%s)%n",
                before[0], after[0], growth(before[0], after[0]), before[1], after[1], growth(before[1], after[1]),
                mib(before[2]), mib(after[2]), growth(before[2] >> 20, after[2] >> 20));
        if (!opened.isEmpty()) {
            System.out.println("soak: descriptors open after it that were not before: " + opened);
        }
        if (after[0] > before[0] || after[1] > before[1]) {
            throw new IllegalStateException("the soak left the service with more descriptors or threads than it "
                    + "found: descriptors " + before[0] + " → " + after[0] + ", threads " + before[1] + " → " + after[1]);
        }
    }

    static String growth(long before, long after) {
        return after > before ? "grew by " + (after - before) : "no growth";
    }

    // ---------------------------------------------------------------- clients

    /** Receives a stream of binary messages up to its last byte; MB/s of payload, from connect to the last byte. */
    /** {@link #streamMBps}, measured again (up to three tries) when the JDK client fails with its handover bug. */
    static double jdkStreamMBps(String url, String protocol, long expected, int[] retried, int system) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return streamMBps(url, protocol, expected);
            } catch (java.util.concurrent.ExecutionException e) {
                boolean handoverBug = false;
                for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                    handoverBug |= cause instanceof java.net.ProtocolException;
                }
                if (!handoverBug || attempt == 3) {
                    throw e;
                }
                retried[system]++;
            }
        }
    }

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
        WebSocket ws;
        try {
            ws = builder(protocol).buildAsync(URI.create(url), listener).get(REQUEST.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("hung: the JDK WebSocket handshake with " + url + " got no answer within "
                    + describe(REQUEST));
        }
        long bytes;
        double seconds;
        try {
            bytes = done.get(STREAM.toSeconds(), TimeUnit.SECONDS);
            seconds = (System.nanoTime() - began) / 1e9; // to the last byte, not to the abort
        } catch (TimeoutException e) {
            throw new IllegalStateException("hung: the stream from " + url + " to the JDK WebSocket client did not end "
                    + "within " + describe(STREAM) + " (" + received[0] + " of " + expected + " bytes)");
        } finally {
            ws.abort();
        }
        if (bytes != expected) {
            throw new IllegalStateException(url + ": " + bytes + " bytes, not " + expected);
        }
        return bytes / 1e6 / seconds;
    }

    /** MB/s of {@code bytes} of zeros through a terminal that script(1) relays to /dev/null: the tty's floor. */
    static double scriptMBps(long bytes) throws Exception {
        long began = System.nanoTime();
        Process script = start(new ProcessBuilder("script", "-qfec", "head -c " + bytes + " /dev/zero", "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT));
        int code = await(script, STREAM, "script(1) relaying " + bytes + " bytes of a terminal");
        if (code != 0) {
            throw new IllegalStateException("script(1) failed: " + code);
        }
        return bytes / 1e6 / ((System.nanoTime() - began) / 1e9);
    }

    /** The same measure with Node's ws client (bench/ws-client.mjs stream), which prints MB/s. */
    static double nodeStreamMBps(String url, String protocol, long expected) throws Exception {
        return Double.parseDouble(output(nodeClient("stream", url, expected, protocol), STREAM,
                "the Node client streaming from " + url).strip());
    }

    /** {@code count} one-step execs of {@code echo hi} in a row through the Node client; sorted times in ms. */
    static double[] nodeOneShots(String url, String protocol, int count) throws Exception {
        String out = output(nodeClient("oneshot", url, count, protocol), BATCH,
                "the Node client's " + count + " one-step execs against " + url);
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
     * timed bursts (2) and after them (3). The client has ended, and with it every one of its sessions, when this
     * returns.
     */
    static ScaleResult nodeScale(String url, String protocol, int sessions, Stage stage) throws Exception {
        String what = "the Node client's " + sessions + " sessions to " + url;
        Process client = start(nodeClient("scale", url, sessions, protocol));
        // Its lines come through a queue that is polled with a deadline: a client (or server) that hangs must
        // not hang the run in a blocking read
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        String end = new String("end of output"); // a marker no line can be (compared by identity)
        READERS.execute(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(client.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the client was killed; the end marker follows
            } finally {
                lines.add(end);
            }
        });
        var go = client.outputWriter(StandardCharsets.UTF_8);
        int stages = 0;
        String result = null;
        while (true) {
            String line = lines.poll(STREAM.toSeconds(), TimeUnit.SECONDS);
            if (line == null) {
                kill(client);
                throw new IllegalStateException("hung: " + what + " printed nothing for " + describe(STREAM)
                        + " after stage " + stages + " (killed)");
            }
            if (line == end) {
                break;
            }
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
        int code = await(client, STREAM, what + ", after its output ended");
        if (code != 0 || result == null) {
            throw new IllegalStateException(what + ": the client failed (exit " + code + ")"
                    + (result == null ? " with no result" : ""));
        }
        return new ScaleResult(numbers(result, "first"), numbers(result, "later"), numbers(result, "single"));
    }

    /**
     * Waits until the service runs no exec and has no child process left: the sessions a client closed end
     * asynchronously (SIGHUP, SIGTERM, a record written), and the next system must not share the machine with them.
     */
    static void awaitIdleService(String what) throws Exception {
        long began = System.nanoTime();
        long deadline = began + STREAM.toNanos();
        while (true) {
            String running = get("/api/v1/execs?target=host&state=running&limit=1");
            long children = ProcessHandle.of(service.pid()).map(p -> p.children().count()).orElse(0L);
            if (running.strip().equals("[]") && children == 0) {
                System.out.printf(Locale.ROOT, "scale: the service's %s had all ended %.1f s after their client had "
                        + "closed them%n", what, (System.nanoTime() - began) / 1e9);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("hung: the service's " + what + " had not all ended " + describe(STREAM)
                        + " after their client closed them (" + children + " children left)");
            }
            Thread.sleep(200);
        }
    }

    /** A JSON array of numbers by name, from the scale client's one-line result; sorted. */
    static double[] numbers(String json, String name) {
        int from = json.indexOf('[', json.indexOf("\"" + name + "\""));
        String list = json.substring(from + 1, json.indexOf(']', from));
        return Arrays.stream(list.split(",")).mapToDouble(Double::parseDouble).sorted().toArray();
    }

    static ProcessBuilder nodeClient(String mode, String url, long count, String protocol) {
        List<String> command = new ArrayList<>(List.of("node", "bench/ws-client.mjs", mode, url, Long.toString(count)));
        if (protocol != null) {
            command.addAll(List.of(protocol, TOKEN));
        }
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    }

    static WebSocket.Builder builder(String protocol) {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        if (protocol != null) {
            builder.subprotocols(protocol).header("Authorization", "Bearer " + TOKEN);
        }
        return builder;
    }

    // ---------------------------------------------------------------- HTTP

    static HttpClient newHttpClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    static String post(String path, String json) throws Exception {
        return http("POST", path, json, REQUEST);
    }

    static String get(String path) throws Exception {
        return http("GET", path, null, REQUEST);
    }

    static String http(String method, String path, String json, Duration timeout) throws Exception {
        return http(http, method, path, json, timeout);
    }

    /** A request that must succeed (2xx) within {@code timeout}; its body. */
    static String http(HttpClient client, String method, String path, String json, Duration timeout) throws Exception {
        HttpResponse<String> response = send(client, method, path, json, timeout);
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    static HttpResponse<String> send(HttpClient client, String method, String path, String json, Duration timeout)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(timeout);
        request = json == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new IllegalStateException("hung: " + method + " " + path + " got no answer within " + describe(timeout), e);
        }
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
        if (jar == null) {
            jar = newestJar();
        }
        port = freePort();
        // Its temporary files (Tomcat's base directory, SQLite's native library) go into the work directory too:
        // left in /tmp, Tomcat's would outlive every run
        Path tmp = Files.createDirectories(WORK.resolve("tmp"));
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Djava.io.tmpdir=" + tmp, "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(),
                "--server.port=" + port,
                "--execgate.data-dir=" + WORK.resolve("data"), "--execgate.security.admin-token=" + TOKEN,
                "--execgate.exec.max-running=1200", "--execgate.exec.max-running-per-principal=1200",
                "--execgate.exec.max-records=2000", "--execgate.stream.max-sessions=1200",
                "--execgate.stream.max-sessions-per-principal=1200",
                "--execgate.backends.oci.roots=" + OciFixture.root(WORK)));
        service = start(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(WORK.resolve("service.log").toFile()));
        Duration limit = Duration.ofSeconds(90);
        long deadline = System.nanoTime() + limit.toNanos();
        // Each probe has a deadline of its own, so that the overall one is checked even while the port accepts
        // connections and answers nothing
        HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                .timeout(Duration.ofSeconds(5)).build();
        while (true) {
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // starting (refused, or no answer within the probe's 5 s)
            }
            if (!service.isAlive()) {
                throw new IllegalStateException("execgate exited while starting; see " + WORK.resolve("service.log"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("hung: execgate was not live within " + describe(limit) + "; see "
                        + WORK.resolve("service.log"));
            }
            Thread.sleep(200);
        }
        System.out.println("execgate " + jar + " (built " + Files.getLastModifiedTime(jar) + ") on port " + port
                + " (pid " + service.pid() + "), log " + WORK.resolve("service.log"));
    }

    /** The newest jar in target/ (by time; of equal times, the first by name), as bench/run picks it. */
    static Path newestJar() throws IOException {
        List<Path> jars = new ArrayList<>();
        try (var found = Files.newDirectoryStream(Path.of("target"), "execgate-*.jar")) {
            found.forEach(jars::add);
        }
        Comparator<Path> byTime = Comparator.comparing(path -> {
            try {
                return Files.getLastModifiedTime(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return jars.stream().min(byTime.reversed().thenComparing(Comparator.naturalOrder()))
                .orElseThrow(() -> new IllegalStateException("no target/execgate-*.jar: build it with ./mvnw package"));
    }

    /** The commit measured: git's short hash, and whether the work tree has changes the commit does not. */
    static String commit() throws Exception {
        try {
            String hash = output(new ProcessBuilder("git", "rev-parse", "--short", "HEAD"), COMMAND, "git rev-parse")
                    .strip();
            String changes = output(new ProcessBuilder("git", "status", "--porcelain"), COMMAND, "git status");
            return hash + (changes.isBlank() ? "" : " + uncommitted changes");
        } catch (IllegalStateException | IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
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

    /** utime + stime of a process, in clock ticks (100 a second on Linux: 10 ms each). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static Process startPeer(List<String> command, int peerPort) throws Exception {
        Process peer = start(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(WORK.resolve(command.getFirst().replace('/', '_') + "-" + peerPort + ".log").toFile()));
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

    /** Runs a short command to its end (within {@link #COMMAND}), its output discarded; it must succeed. */
    static void run(List<String> command, String what) throws Exception {
        Process process = start(new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD));
        if (await(process, COMMAND, what) != 0) {
            throw new IllegalStateException(command + " failed");
        }
    }

    /**
     * Runs a command to its end within {@code limit} and returns its standard output (with its errors, where the
     * builder merges them); it must succeed.
     */
    static String output(ProcessBuilder builder, Duration limit, String what) throws Exception {
        Process process = start(builder);
        // read on the side while the deadline runs: a child that fills its pipe would otherwise never end, and one
        // that hangs silently would block the read
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, READERS);
        int code = await(process, limit, what);
        String text = new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        if (code != 0) {
            throw new IllegalStateException(what + " failed (exit " + code + ")" + (text.isBlank() ? "" : ": " + text.strip()));
        }
        return text;
    }

    /**
     * The phases of the timed {@code execs/run} execs inside the service, from its {@code io.execgate.ExecLife} JFR
     * events (see ExecLifeEvent), picked by their exec ids: p50 of each, in ms. What is left of the client's figure
     * is the HTTP path.
     */
    static void lifeRow(Path recording, Set<String> ids) throws Exception {
        List<String> phases = List.of("admit", "spawn", "follow", "run", "drain", "record");
        List<List<Double>> values = new ArrayList<>();
        for (int i = 0; i <= phases.size(); i++) {
            values.add(new ArrayList<>());
        }
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            if (!event.getEventType().getName().equals("io.execgate.ExecLife") || !ids.contains(event.getString("execId"))) {
                continue;
            }
            for (int i = 0; i < phases.size(); i++) {
                values.get(i).add(event.getDuration(phases.get(i)).toNanos() / 1e6);
            }
            values.get(phases.size()).add(event.getDuration().toNanos() / 1e6); // the whole life
        }
        if (values.getFirst().isEmpty()) {
            System.out.println("no io.execgate.ExecLife events of the timed execs/run execs were recorded");
            return;
        }
        StringBuilder figures = new StringBuilder();
        for (List<Double> phase : values) {
            double[] sorted = phase.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            figures.append(figures.isEmpty() ? "" : " / ").append(fmt(pct(sorted, 50)));
        }
        TABLE.add(new String[] {"latency", "the same inside the service, p50 per phase (JFR io.execgate.ExecLife, ms): "
                + "admit / spawn / follow / run / drain / record; whole life", figures.toString(), "", "", ""});
    }

    /** Runs a tool of the JDK that runs this (jcmd) and returns what it printed. */
    static String jdkTool(String tool, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling(tool).toString());
        command.addAll(List.of(args));
        return output(new ProcessBuilder(command).redirectErrorStream(true), COMMAND, String.join(" ", tool,
                String.join(" ", args)));
    }

    /** RSS and heap after a full GC, in bytes. */
    static long[] memory() throws Exception {
        jdkTool("jcmd", Long.toString(service.pid()), "GC.run");
        Thread.sleep(500);
        String status = Files.readString(Path.of("/proc/" + service.pid() + "/status"));
        long rss = Long.parseLong(status.replaceAll("(?s).*VmRSS:\\s+(\\d+) kB.*", "$1")) * 1024;
        String text = jdkTool("jcmd", Long.toString(service.pid()), "GC.heap_info");
        Matcher used = Pattern.compile("used (\\d+)K").matcher(text);
        long heap = used.find() ? Long.parseLong(used.group(1)) * 1024 : -1;
        return new long[] {rss, heap};
    }

    /** The service's open descriptors, as "fd -> what it is". */
    static Set<String> descriptors() throws IOException {
        Set<String> open = new TreeSet<>();
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

    /** The service's open descriptors, threads and heap after a full GC. */
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

    /**
     * {@code n} timed samples of each action (ms, sorted), in rounds that alternate the actions (A B C, A B C, ...):
     * each round takes its share of the {@code n} from every action in turn, so that a slow spell of this machine
     * (whose speed moves within minutes) lands on all of them. The caller warms every action first.
     */
    static double[][] alternatingSamples(int n, Action... actions) throws Exception {
        double[][] ms = new double[actions.length][n];
        int taken = 0;
        for (int round = 0; round < rounds; round++) {
            int count = share(n, round);
            for (int a = 0; a < actions.length; a++) {
                System.arraycopy(samples(count, actions[a]), 0, ms[a], taken, count);
            }
            taken += count;
        }
        for (double[] values : ms) {
            Arrays.sort(values);
        }
        return ms;
    }

    /** Round {@code round}'s share of {@code n} samples spread over the rounds (the remainder to the first ones). */
    static int share(int n, int round) {
        return n / rounds + (round < n % rounds ? 1 : 0);
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

    static void row(String group, String what, double[] ours, String peer, double[] theirs) {
        double ratio = median(ours) / median(theirs);
        TABLE.add(new String[] {group, what, medianSpread(ours), peer, medianSpread(theirs), fmt(ratio) + "x"});
    }

    /** A figure pooled over all rounds, with the range of the rounds' own figures beside it. */
    static void rowPooled(String group, String what, double ours, double[] oursByRound, String peer, double theirs,
            double[] theirsByRound) {
        TABLE.add(new String[] {group, what, withRange(ours, oursByRound), peer, withRange(theirs, theirsByRound),
                fmt(ours / theirs) + "x"});
    }

    static void rowPercentiles(String group, String what, double[] ours, String peer, double[] theirs) {
        TABLE.add(new String[] {group, what, percentiles(ours), peer, percentiles(theirs),
                fmt(pct(ours, 50) / pct(theirs, 50)) + "x (p50)"});
    }

    /** The median with the min–max of the values; one value alone is one measurement, not a median: no range. */
    static String medianSpread(double[] values) {
        return withRange(median(values), values);
    }

    static String withRange(double figure, double[] values) {
        if (values.length == 1) {
            return fmt(figure);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return fmt(figure) + " (" + fmt(sorted[0]) + "–" + fmt(sorted[sorted.length - 1]) + ")";
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

    /** Prints the table; {@code incomplete} (or null) says why it has fewer rows than asked for. */
    static void printTable(String incomplete) {
        System.out.println();
        if (incomplete != null) {
            System.out.println(incomplete);
            System.out.println();
        }
        System.out.println("| scenario | what | execgate (median (min–max) or p50 / p90 / p99) | peer | peer's | execgate / peer |");
        System.out.println("|---|---|---|---|---|---|");
        for (String[] row : TABLE) {
            System.out.printf("| %s | %s | %s | %s | %s | %s |%n", (Object[]) row);
        }
        if (incomplete != null) {
            System.out.println();
            System.out.println("(incomplete: see above)");
        }
    }

    // ---------------------------------------------------------------- fixtures

    /** A runc container with a busybox rootfs, under a private root, for the runc comparison. */
    static final class OciFixture {
        static String why = "";
        static boolean started;

        static Path root(Path work) {
            return work.resolve("runc");
        }

        static String start(Path work) throws Exception {
            if (!Files.isExecutable(Path.of("/bin/busybox")) || findInPath("runc") == null) {
                why = "runc and busybox-static are needed";
                return null;
            }
            // runc makes containers as root only (the service would run it as this user too): skip, not fail
            if (!isRoot()) {
                why = "runc needs root, and this runs as uid " + uid();
                return null;
            }
            Path bundle = work.resolve("bundle");
            Path rootfs = Files.createDirectories(bundle.resolve("rootfs/bin"));
            Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
            for (String applet : List.of("sh", "true", "echo", "cat", "sleep")) {
                Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
            }
            run(List.of("runc", "spec", "--bundle", bundle.toString()), "runc spec");
            String config = Files.readString(bundle.resolve("config.json"))
                    .replace("\"terminal\": true", "\"terminal\": false")
                    .replaceFirst("\"args\": \\[[^]]*]", "\"args\": [\"sleep\", \"100000\"]");
            Files.writeString(bundle.resolve("config.json"), config);
            started = true; // from here on stopAll deletes it (runc run may have made it before failing)
            run(List.of("runc", "--root", root(work).toString(), "run", "-d", "--bundle", bundle.toString(), "bench"),
                    "runc run");
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

    static boolean isRoot() throws IOException {
        return uid().equals("0");
    }

    /** The effective uid, from /proc (the JDK has no portable call for it). */
    static String uid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[2];
            }
        }
        throw new IllegalStateException("no Uid in /proc/self/status");
    }

    /**
     * Why KVM is or is not usable, by the service's own test (QemuCommandLine.kvmUsable): /dev/kvm readable and
     * writable, and a CPU with vmx or svm (a /dev/kvm without them is a paravirtual one a stock kernel cannot use).
     */
    static String kvmCheck() throws IOException {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm)) {
            return "no /dev/kvm";
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return "/dev/kvm not readable and writable";
        }
        boolean hardware = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags"))
                .anyMatch(l -> (" " + l.substring(l.indexOf(':') + 1) + " ").matches(".* (vmx|svm) .*"));
        return hardware ? "/dev/kvm usable" : "/dev/kvm there, but the CPU has no vmx or svm";
    }

    // ---------------------------------------------------------------- children

    /** Starts a child registered in CHILDREN, so that stopAll ends it; none once stopAll has begun. */
    static Process start(ProcessBuilder builder) throws IOException {
        synchronized (CHILDREN) {
            if (stopping) {
                throw new IllegalStateException("stopping: no new child (" + builder.command().getFirst() + ")");
            }
            Process process = builder.start();
            CHILDREN.add(process);
            return process;
        }
    }

    /**
     * Waits for a child to end within {@code limit}, and returns its exit code; one that overruns it is killed, and
     * fails the run with a message that names it.
     */
    static int await(Process process, Duration limit, String what) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            kill(process);
            throw new IllegalStateException("hung: " + what + " did not end within " + describe(limit) + " (killed)");
        }
        synchronized (CHILDREN) {
            CHILDREN.remove(process);
        }
        return process.exitValue();
    }

    /** Kills a child and whatever it started. */
    static void kill(Process process) throws InterruptedException {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.waitFor(10, TimeUnit.SECONDS);
        synchronized (CHILDREN) {
            CHILDREN.remove(process);
        }
    }

    static String describe(Duration limit) {
        return limit.toSeconds() % 60 == 0 ? limit.toMinutes() + " min" : limit.toSeconds() + " s";
    }

    /**
     * Ends every child: SIGTERM first (the service then ends its execs and UVMs itself), SIGKILL after 20 s, then
     * whatever they had started and left running; then the runc container. Runs at the end, after a failure, and on
     * SIGTERM or ^C as a shutdown hook.
     */
    static void stopAll() {
        List<Process> children;
        synchronized (CHILDREN) {
            stopping = true;
            children = new ArrayList<>(CHILDREN);
            CHILDREN.clear();
        }
        List<ProcessHandle> descendants = new ArrayList<>();
        for (Process child : children) {
            descendants.addAll(child.descendants().toList()); // before they are orphaned and out of sight
            child.destroy();
        }
        for (Process child : children) {
            try {
                if (!child.waitFor(20, TimeUnit.SECONDS)) {
                    child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        if (OciFixture.started) {
            OciFixture.started = false;
            try {
                // not through start(): stopping refuses new children, and this one is waited for right here
                Process delete = new ProcessBuilder("runc", "--root", OciFixture.root(WORK).toString(), "delete", "-f",
                        "bench").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!delete.waitFor(COMMAND.toSeconds(), TimeUnit.SECONDS)) {
                    delete.destroyForcibly();
                    System.err.println("bench: runc delete of the container hung; it may still run (runc --root "
                            + OciFixture.root(WORK) + " list)");
                }
            } catch (IOException | InterruptedException e) {
                System.err.println("bench: could not delete the runc container: " + e);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Removes the run's work directory (its links are removed, never followed). */
    static void removeWork() throws IOException {
        try (var paths = Files.walk(WORK)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
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
