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
    /** When set, SIGTERM ends the process (with its output) as a well-behaved program would. */
    volatile boolean exitsOnTerminate;

    @Override
    public long pid() {
        return 4242;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return Optional.empty();
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
    public void closeStdin() {
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

        void write(String text) {
            chunks.add(text.getBytes(StandardCharsets.UTF_8));
        }

        void end() {
            chunks.add(END);
        }

        @Override
        public void close() {
            chunks.add(CLOSED);
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
