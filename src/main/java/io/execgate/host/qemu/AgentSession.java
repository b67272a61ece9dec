package io.execgate.host.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Clock;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;

/**
 * One exec in a UVM, as the exec layer sees it: a {@link HostProcess} whose streams are the session's frames.
 * Output arrives on the connection's reader thread into two {@link SessionInput}s; stdin goes out in frames
 * while the stdin window has room, and waits when it has none.
 */
final class AgentSession implements HostProcess {

    private final AgentConnection connection;
    private final int id;
    private final boolean tty;
    private final Clock clock;
    private final OutputWindow outputWindow;
    private final SessionInput stdout;
    private final SessionInput stderr;
    private final boolean openStdin;
    private final boolean openStdout;
    private final boolean openStderr;
    private final CompletableFuture<Long> started = new CompletableFuture<>();
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final AtomicBoolean exitDecided = new AtomicBoolean();
    private final Object stdinLock = new Object();
    private int stdinWindow = AgentPayloads.WINDOW; // guarded by stdinLock
    private boolean stdinClosed; // guarded by stdinLock
    private volatile boolean closed;
    private volatile long pid = -1;

    AgentSession(AgentConnection connection, int id, boolean tty, boolean openStdin, boolean openStdout,
            boolean openStderr, Clock clock) {
        this.connection = connection;
        this.id = id;
        this.tty = tty;
        this.clock = clock;
        this.openStdin = openStdin;
        this.openStdout = openStdout;
        this.openStderr = openStderr && !tty;
        this.outputWindow = new OutputWindow(id);
        this.stdout = new SessionInput(this::credit);
        this.stderr = new SessionInput(this::credit);
    }

    /** Returns output bytes to the agent's window (one window for stdout and stderr together). */
    private void credit(int bytes) {
        outputWindow.credited(bytes);
        connection.sendQuietly(AgentFrame.CREDIT, id, AgentPayloads.credit(bytes));
    }

    int id() {
        return id;
    }

    CompletableFuture<Long> started() {
        return started;
    }

    /**
     * A frame for this session, on the connection's reader thread: must not block.
     *
     * @throws OutputWindow.Exceeded when the agent sent more output than the session's window allows
     */
    void received(AgentFrame frame) throws OutputWindow.Exceeded {
        switch (frame.type()) {
            case AgentFrame.STARTED -> {
                pid = Integer.toUnsignedLong(AgentPayloads.u32(frame.payload()));
                started.complete(pid);
            }
            case AgentFrame.STDOUT -> output(stdout, openStdout, frame.payload());
            case AgentFrame.STDERR -> output(stderr, openStderr, frame.payload());
            case AgentFrame.EXIT -> {
                AgentPayloads.Exit how = AgentPayloads.exit(frame.payload());
                ExitStatus status = how.signaled() ? signaled(how.value()) : ExitStatus.exited(how.value(), clock.instant());
                completeExit(status);
            }
            case AgentFrame.STDIN_CREDIT -> {
                synchronized (stdinLock) {
                    // Unsigned, and capped: a guest's credit (it may have been taken over) must not wrap the window
                    long credit = Integer.toUnsignedLong(AgentPayloads.u32(frame.payload()));
                    stdinWindow = (int) Math.min(Integer.MAX_VALUE, stdinWindow + credit);
                    stdinLock.notifyAll();
                }
            }
            case AgentFrame.ERROR -> {
                AgentPayloads.Error error = AgentPayloads.error(frame.payload());
                started.completeExceptionally(startFailure(error));
                connection.forget(this);
            }
            default -> { } // a newer agent's frame: ignored, as the protocol says
        }
    }

    /**
     * Output counts against the window before it is buffered; output for a stream the spec did not open is
     * credited back at once and dropped.
     */
    private void output(SessionInput stream, boolean open, byte[] data) throws OutputWindow.Exceeded {
        outputWindow.received(data.length);
        if (open) {
            stream.put(data);
        } else if (data.length > 0) {
            credit(data.length);
        }
    }

    private ExitStatus signaled(int number) {
        try {
            return ExitStatus.signaled(Signal.killedBy(number), clock.instant());
        } catch (IllegalArgumentException unknown) {
            return new ExitStatus(128 + number, null, io.execgate.host.ExitReason.KILLED, clock.instant(), null);
        }
    }

    /** By the code, never the message: "pty: No such file or directory" is not about the working directory. */
    static StartFailure startFailure(AgentPayloads.Error error) {
        StartFailure.Kind kind = switch (error.code()) {
            case 127 -> StartFailure.Kind.EXECUTABLE_NOT_FOUND;
            case 126 -> StartFailure.Kind.NOT_EXECUTABLE;
            case 2 -> StartFailure.Kind.BAD_WORKING_DIR;
            case 3 -> StartFailure.Kind.BAD_USER;
            default -> StartFailure.Kind.BACKEND_ERROR;
        };
        return new StartFailure(kind, error.message());
    }

    /**
     * Completes the exit off the connection's reader thread: what waits for it (the exec's end, its record, its
     * observers) must not hold up the other sessions' frames.
     */
    private void completeExit(ExitStatus status) {
        // Decided here, in the order the reader saw things: an EXIT followed by the connection's end is an exit, even
        // when the thread completing the end would run first
        if (exitDecided.compareAndSet(false, true)) {
            Thread.ofVirtual().name("uvm-session-" + id + "-exit").start(() -> exit.complete(status));
        }
    }

    /** The connection is gone: the process's fate is unknown, its streams end with what arrived. */
    void lost(String why) {
        started.completeExceptionally(new StartFailure(StartFailure.Kind.TARGET_GONE, why));
        completeExit(ExitStatus.lost(why, clock.instant()));
        stdout.end();
        stderr.end();
        synchronized (stdinLock) {
            stdinClosed = true;
            stdinLock.notifyAll();
        }
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return openStdin ? Optional.of(stdinStream) : Optional.empty();
    }

    @Override
    public Optional<InputStream> stdout() {
        return openStdout ? Optional.of(stdout) : Optional.empty();
    }

    @Override
    public Optional<InputStream> stderr() {
        return openStderr ? Optional.of(stderr) : Optional.empty();
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public void signal(Signal signal) throws IOException {
        if (!exit.isDone()) {
            connection.send(AgentFrame.SIGNAL, id, AgentPayloads.signal(signal.number(), false));
        }
    }

    @Override
    public void terminate() throws IOException {
        if (!exit.isDone()) {
            connection.send(AgentFrame.SIGNAL, id, AgentPayloads.signal(Signal.SIGTERM.number(), true));
        }
    }

    @Override
    public void kill() throws IOException {
        if (!exit.isDone()) {
            connection.send(AgentFrame.SIGNAL, id, AgentPayloads.signal(Signal.SIGKILL.number(), true));
        }
    }

    @Override
    public void resize(ConsoleSize size) throws IOException {
        if (tty && !exit.isDone()) {
            connection.send(AgentFrame.RESIZE, id, AgentPayloads.resize(size.height(), size.width()));
        }
    }

    @Override
    public void closeStdin() throws IOException {
        synchronized (stdinLock) {
            if (stdinClosed) {
                return;
            }
            stdinClosed = true;
            stdinLock.notifyAll();
        }
        connection.send(AgentFrame.STDIN_CLOSE, id, new byte[0]);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stdout.close();
        stderr.close();
        synchronized (stdinLock) {
            stdinClosed = true;
            stdinLock.notifyAll();
        }
        connection.sendQuietly(AgentFrame.CLOSE, id, new byte[0]);
        connection.forget(this);
    }

    /** Stdin in frames of at most a frame's payload, each within the window the agent has granted. */
    private final OutputStream stdinStream = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int off, int len) throws IOException {
            while (len > 0) {
                int n;
                synchronized (stdinLock) {
                    while (stdinWindow == 0 && !stdinClosed) {
                        try {
                            stdinLock.wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException("interrupted while the guest took no input");
                        }
                    }
                    if (stdinClosed) {
                        throw new IOException("stdin is closed");
                    }
                    n = Math.min(len, Math.min(stdinWindow, AgentFrame.MAX_PAYLOAD));
                    stdinWindow -= n;
                }
                connection.send(AgentFrame.STDIN, id, Arrays.copyOfRange(data, off, off + n));
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() throws IOException {
            closeStdin();
        }
    };

    @Override
    public String toString() {
        return "session " + id + " (pid " + pid + ")";
    }
}
