package io.execgate.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.execgate.host.BlockingThreads;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import io.execgate.host.local.LocalProcesses;
import io.execgate.host.local.PolledDescriptor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code binary://} logging driver, with hcsshim's contract: execgate makes the FIFOs {@code stdout},
 * {@code stderr} and {@code wait} in a private directory, starts the driver with exactly {@code CONTAINER_ID},
 * {@code CONTAINER_NAMESPACE}, {@code CONTAINER_STDOUT}, {@code CONTAINER_STDERR} and {@code CONTAINER_WAIT},
 * and starts the command only once the driver has opened and closed the wait FIFO (or written a byte to it).
 * When the exec's output ends, the driver reads end-of-file, has its time to exit, and is killed after it.
 */
final class BinaryLoggerConnection implements UpstreamConnection {

    private static final Logger log = LoggerFactory.getLogger(BinaryLoggerConnection.class);
    private static final java.time.Duration HAND_OVER_POLL = java.time.Duration.ofMillis(20);

    private final UpstreamPlan.Binary plan;
    private final Path dir;
    private final String execId;
    private final UpstreamProperties properties;
    private volatile @Nullable OutputStream stdout;
    private volatile @Nullable OutputStream stderr;
    /**
     * The service's own read-write ends of the stdout and stderr FIFOs, held until the output ends: with them the
     * write ends never wait for the driver, nor fail while it has not opened its ends yet.
     */
    private final List<PolledDescriptor> keepers = new ArrayList<>(); // guarded by lock
    /** The write ends under {@link #stdout} and {@link #stderr}. */
    private final List<PolledDescriptor> writeEnds = new ArrayList<>(); // guarded by lock
    private final Object lock = new Object();
    private @Nullable HostProcess driver; // guarded by lock
    private @Nullable PolledDescriptor waitFifo; // guarded by lock
    private boolean closed; // guarded by lock
    private volatile boolean ready;
    /** Completed once closed and the driver, if one started, has exited and its directory is gone. */
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    private BinaryLoggerConnection(UpstreamPlan.Binary plan, Path dir, String execId, UpstreamProperties properties) {
        this.plan = plan;
        this.dir = dir;
        this.execId = execId;
        this.properties = properties;
    }

    static BinaryLoggerConnection prepare(UpstreamPlan.Binary plan, Path parent, String execId,
            UpstreamProperties properties) throws IOException {
        Path dir = PrivateDir.create(parent, execId);
        try {
            for (String name : List.of("stdout", "stderr", "wait")) {
                Fifos.make(dir.resolve(name));
            }
        } catch (IOException | RuntimeException e) {
            PrivateDir.delete(dir);
            throw e;
        }
        return new BinaryLoggerConnection(plan, dir, execId, properties);
    }

    @Override
    public Paths paths() {
        return new Paths(null, dir.resolve("stdout").toString(), dir.resolve("stderr").toString());
    }

    @Override
    public boolean waitsForClient() {
        return false;
    }

    @Override
    public void connect() throws IOException {
        Path executable = plan.executable();
        if (!Files.isRegularFile(executable) || !Files.isExecutable(executable)) {
            throw new IOException("the logging driver " + executable + " does not exist or is not executable");
        }
        HostProcess started;
        PolledDescriptor ready;
        synchronized (lock) {
            if (closed) {
                throw new IOException("closed before the logging driver started");
            }
            // Opened before the driver starts, in any order it opens them: its open of the wait FIFO for writing,
            // and its opens of stdout and stderr for reading (containerd's Windows drivers open those first), never
            // wait.
            ready = Fifos.openForReading(dir.resolve("wait"));
            waitFifo = ready;
            stdout = writeEnd(dir.resolve("stdout"));
            stderr = writeEnd(dir.resolve("stderr"));
            List<String> argv = new ArrayList<>();
            argv.add(executable.toString());
            argv.addAll(plan.arguments());
            List<String> env = List.of("CONTAINER_ID=" + execId, "CONTAINER_NAMESPACE=" + properties.namespace(),
                    "CONTAINER_STDOUT=" + dir.resolve("stdout"), "CONTAINER_STDERR=" + dir.resolve("stderr"),
                    "CONTAINER_WAIT=" + dir.resolve("wait"));
            started = LocalProcesses.start(executable.toString(),
                    new ProcessSpec(argv, env, "/", null, false, null, false, false, false), Clock.systemUTC());
            driver = started;
        }
        log.debug("exec {}: logging driver {} started as pid {}", execId, plan.uri(), started.pid());
        awaitReady(started, ready);
        this.ready = true;
        // A driver that goes away does not come back: what the process writes then is discarded.
        started.onExit().whenComplete((status, error) -> {
            if (!closedYet()) {
                log.warn("exec {}: the logging driver {} exited while the exec ran; its output is discarded", execId,
                        plan.executable());
                closeStreams();
            }
        });
    }

    /** Opens the FIFO's both ends to keep it, then a write end of its own (the kept end reads, so it opens at once). */
    private OutputStream writeEnd(Path fifo) throws IOException {
        keepers.add(Fifos.openBothEnds(fifo));
        PolledDescriptor end = Fifos.openForWriting(fifo);
        writeEnds.add(end);
        return end.outputStream();
    }

    private boolean closedYet() {
        synchronized (lock) {
            return closed;
        }
    }

    private void closeStreams() {
        synchronized (lock) {
            keepers.forEach(PolledDescriptor::close);
            writeEnds.forEach(PolledDescriptor::close);
        }
    }

    /**
     * Once the output has ended: the service's read ends close, and each write end closes as soon as the driver has
     * the FIFO open for reading (or has exited, or its stop time is up). Closing both at once would throw away what
     * the FIFO holds when the driver opens it late (it may open its pipes after it signalled ready, in any order):
     * a FIFO nobody has open keeps nothing. Polled on a virtual thread; the kernel flags a write end without a reader.
     */
    private void handOver(HostProcess running) {
        List<PolledDescriptor> open;
        synchronized (lock) {
            keepers.forEach(PolledDescriptor::close);
            open = new ArrayList<>(writeEnds);
        }
        long deadline = System.nanoTime() + properties.driverStopTimeout().toNanos();
        try {
            while (true) {
                boolean over = running.onExit().isDone() || System.nanoTime() > deadline;
                open.removeIf(end -> {
                    if (over || end.isClosed() || end.hasReader()) {
                        end.close();
                        return true;
                    }
                    return false;
                });
                if (open.isEmpty()) {
                    return;
                }
                Thread.sleep(HAND_OVER_POLL.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.forEach(PolledDescriptor::close);
        }
    }

    /**
     * Waits for the driver to signal readiness on the wait FIFO: end-of-file once it has opened and closed it, or
     * a byte. The driver exiting first, or the ready timeout passing, ends the wait by closing the FIFO.
     */
    private void awaitReady(HostProcess started, PolledDescriptor ready) throws IOException {
        AtomicReference<String> failure = new AtomicReference<>();
        CompletableFuture<ExitStatus> exited = started.onExit().whenComplete((status, error) -> {
            if (!ready.readable()) { // a driver that signalled and then exited did signal
                failure.compareAndSet(null, "it exited" + (status != null && status.exitCode() != null
                        ? " with " + status.exitCode() : "") + " before it was ready");
                ready.close();
            }
        });
        CompletableFuture<Void> timer = CompletableFuture.runAsync(() -> {
            failure.compareAndSet(null, "it was not ready within " + properties.driverReadyTimeout());
            ready.close();
        }, CompletableFuture.delayedExecutor(properties.driverReadyTimeout().toMillis(), TimeUnit.MILLISECONDS));
        try {
            int n = BlockingThreads.call("upstream-" + execId + "-ready", () -> ready.read(new byte[1], 0, 1));
            String why = failure.get();
            if (ready.isClosed() && why != null) {
                throw new IOException("the logging driver " + plan.executable() + " failed to start: " + why);
            }
            if (closedYet()) {
                // close() (a DELETE, shutdown) closed the wait FIFO under the read: that end-of-file is not the
                // driver's signal, and the exec must not start with its upstream gone
                throw new IOException("closed while the logging driver " + plan.executable() + " was starting");
            }
            log.debug("exec {}: logging driver ready ({})", execId, n < 0 ? "closed the wait pipe" : "wrote a byte");
        } finally {
            timer.cancel(false);
            exited.cancel(false);
            ready.close();
        }
    }

    @Override
    public Optional<InputStream> stdin() {
        return Optional.empty();
    }

    @Override
    public Optional<OutputStream> stdout() {
        return Optional.ofNullable(stdout);
    }

    @Override
    public Optional<OutputStream> stderr() {
        return Optional.ofNullable(stderr);
    }

    /**
     * Closes the FIFOs (the driver reads end-of-file), then gives the driver its stop timeout to exit before it is
     * killed, and removes the directory once it is gone. Does not wait.
     */
    @Override
    public void close() {
        HostProcess running;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            running = driver;
            if (waitFifo != null) {
                waitFifo.close();
            }
        }
        if (running == null) {
            closeStreams();
            PrivateDir.delete(dir);
            released.complete(null);
            return;
        }
        running.onExit().whenComplete((status, error) -> {
            try {
                running.close();
                PrivateDir.delete(dir);
            } finally {
                released.complete(null);
            }
        });
        if (!ready) {
            closeStreams();
            killQuietly(running); // it never became a logger: nothing of the exec's output is in it
            return;
        }
        Thread.ofVirtual().name("upstream-" + execId + "-hand-over").start(() -> handOver(running));
        CompletableFuture<Void> kill = CompletableFuture.runAsync(() -> {
            if (!running.onExit().isDone()) {
                log.warn("exec {}: the logging driver {} did not exit within {} of the output's end; killing it",
                        execId, plan.executable(), properties.driverStopTimeout());
                killQuietly(running);
            }
        }, CompletableFuture.delayedExecutor(properties.driverStopTimeout().toMillis(), TimeUnit.MILLISECONDS));
        running.onExit().whenComplete((status, error) -> kill.cancel(false));
    }

    @Override
    public CompletionStage<Void> released() {
        return released;
    }

    /**
     * For the service's shutdown: the driver is not given its stop timeout, the JVM will not be there. Also kills
     * a driver already closed and still in its stop time (the kill after it is the common pool's, which dies with
     * the JVM).
     */
    @Override
    public void abort() {
        HostProcess running;
        synchronized (lock) {
            running = driver;
        }
        close();
        if (running != null) {
            killQuietly(running);
        }
    }

    private void killQuietly(HostProcess running) {
        try {
            running.kill();
        } catch (IOException e) {
            log.warn("exec {}: killing the logging driver failed: {}", execId, e.getMessage());
        }
    }
}
