package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;

/**
 * A process the test drives by hand, for the exec life without real processes: its output streams are fed by
 * the test and end only when the test ends them or someone closes them, as pipes held by a grandchild do.
 */
final class FakeHostProcess implements HostProcess {

    final ScriptedStream stdout = new ScriptedStream();
    final ScriptedStream stderr = new ScriptedStream();
    final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    final List<Signal> signals = new CopyOnWriteArrayList<>();
    final AtomicInteger terminations = new AtomicInteger();
    final AtomicInteger kills = new AtomicInteger();
    final AtomicBoolean closed = new AtomicBoolean();
    final AtomicBoolean stdinClosed = new AtomicBoolean();
    /** What the process was given on stdin, when it has one ({@link #withStdin}). */
    final java.io.ByteArrayOutputStream stdinBytes = new java.io.ByteArrayOutputStream();
    /** When set before the start, the process has a stdin, which {@link #stdinBytes} collects. */
    volatile boolean withStdin;
    /** When set, a write to stdin waits for it: the process does not read until then. */
    volatile java.util.concurrent.@org.jspecify.annotations.Nullable CountDownLatch stdinGate;
    /** Run when stdin is closed, on the closing thread. */
    volatile @org.jspecify.annotations.Nullable Runnable onCloseStdin;
    /** When set, SIGTERM ends the process (with its output) as a well-behaved program would. */
    volatile boolean exitsOnTerminate;
    /** When set, delivering SIGTERM waits for it, as a call to a wedged backend would. */
    volatile java.util.concurrent.@org.jspecify.annotations.Nullable CountDownLatch terminateGate;

    @Override
    public long pid() {
        return 4242;
    }

    @Override
    public Optional<OutputStream> stdin() {
        if (!withStdin) {
            return Optional.empty();
        }
        return Optional.of(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (stdinBytes) {
                    stdinBytes.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                java.util.concurrent.CountDownLatch gate = stdinGate;
                try {
                    if (gate != null) {
                        gate.await();
                    }
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                synchronized (stdinBytes) {
                    stdinBytes.write(b, off, len);
                }
            }
        });
    }

    int stdinLength() {
        synchronized (stdinBytes) {
            return stdinBytes.size();
        }
    }

    @Override
    public Optional<InputStream> stdout() {
        return Optional.of(stdout);
    }

    @Override
    public Optional<InputStream> stderr() {
        return Optional.of(stderr);
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public void signal(Signal signal) {
        signals.add(signal);
    }

    @Override
    public void terminate() {
        java.util.concurrent.CountDownLatch gate = terminateGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        terminations.incrementAndGet();
        if (exitsOnTerminate) {
            exitWith(ExitStatus.signaled(Signal.SIGTERM, Instant.now()));
        }
    }

    @Override
    public void kill() {
        kills.incrementAndGet();
        exitWith(ExitStatus.signaled(Signal.SIGKILL, Instant.now()));
    }

    @Override
    public void resize(ConsoleSize size) throws IOException {
        throw new IOException("no terminal");
    }

    @Override
    public void closeStdin() throws IOException {
        Runnable told = onCloseStdin;
        if (told != null) {
            try {
                told.run();
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause(); // a backend whose close fails
            }
        }
        stdinClosed.set(true);
    }

    @Override
    public void close() {
        closed.set(true);
        stdout.close();
        stderr.close();
    }

    /** Ends the output and then the process, as a process that exits normally does. */
    void exitWith(ExitStatus status) {
        stdout.end();
        stderr.end();
        exit.complete(status);
    }

    ProcessHost host() {
        FakeHostProcess process = this;
        return new ProcessHost() {
            @Override
            public TargetRef target() {
                return new TargetRef(TargetKind.HOST, "test");
            }

            @Override
            public HostProcess start(ProcessSpec spec) {
                return process;
            }
        };
    }

    static ProcessHost failing(StartFailure failure) {
        return new ProcessHost() {
            @Override
            public TargetRef target() {
                return new TargetRef(TargetKind.HOST, "test");
            }

            @Override
            public HostProcess start(ProcessSpec spec) throws StartFailure {
                throw failure;
            }
        };
    }

    /** An input stream fed by the test; a read blocks until data, end, or close (which throws, as a closed pipe does). */
    static final class ScriptedStream extends InputStream {
        private static final byte[] END = new byte[0];
        private static final byte[] CLOSED = new byte[0];
        private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
        private volatile boolean done;
        /** How long each read takes before it looks for data: a reader slow to get to it. */
        volatile long readDelayMillis;

        void write(String text) {
            chunks.add(text.getBytes(StandardCharsets.UTF_8));
        }

        void end() {
            chunks.add(END);
        }

        /** As a closed pipe does, loses what it held: a read gets the close, not the rest. */
        @Override
        public void close() {
            chunks.clear();
            chunks.add(CLOSED);
        }

        /** What it holds unread, as {@code FIONREAD} tells of a pipe. */
        @Override
        public int available() {
            return chunks.stream().filter(chunk -> chunk != END && chunk != CLOSED).mapToInt(chunk -> chunk.length).sum();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            byte[] chunk;
            try {
                if (readDelayMillis > 0) {
                    Thread.sleep(readDelayMillis);
                }
                chunk = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            if (chunk == END) {
                done = true;
                return -1;
            }
            if (chunk == CLOSED) {
                done = true;
                throw new IOException("stream closed");
            }
            int n = Math.min(len, chunk.length);
            System.arraycopy(chunk, 0, b, off, n);
            if (n < chunk.length) {
                byte[] rest = new byte[chunk.length - n];
                System.arraycopy(chunk, n, rest, 0, rest.length);
                List<byte[]> after = new java.util.ArrayList<>();
                chunks.drainTo(after);
                chunks.add(rest);
                chunks.addAll(after);
            }
            return n;
        }
    }
}
