package io.execgate.host.hcs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.sun.jna.Pointer;
import com.sun.jna.WString;
import io.execgate.host.BlockingThreads;
import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.Signal;
import io.execgate.host.UnsupportedSignalException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process HCS runs in a compute system, with hcsshim's process semantics: exit from the process-exited event
 * ({@code LastWaitResult} other than 0, or no status at all, means the exit is unknown: {@code lost}), signals as
 * Linux numbers for a Linux system and console events for a Windows one (sent in the background: servercore blocks
 * the call until the target exits), kill through a fresh system handle (HCS serialises signals per handle),
 * "already stopped" as success, and a one-second force-unblock when a signal or kill fails in a way after which HCS
 * may never send the exit event.
 *
 * <p>The process handle is closed only when no call on it is under way: calls hold the read side of
 * {@link #handleLock} across the call and its wait, {@link #close()} takes the write side (computecore crashes
 * when a handle in use is closed).
 */
final class HcsProcess implements HostProcess {

    private static final Logger log = LoggerFactory.getLogger(HcsProcess.class);
    private static final Duration FORCE_UNBLOCK = Duration.ofSeconds(1);
    /**
     * Completes exits off HCS's callback thread, on the pooled platform threads ({@link BlockingThreads}): what
     * follows closes handles (native calls).
     */
    private static final Executor EXITS = task -> BlockingThreads.start("hcs-process", task);

    private final HcsApi api;
    private final String systemId;
    private final boolean linux;
    private final Pointer handle;
    private final long pid;
    private final Clock clock;
    private final @Nullable OutputStream stdin;
    private final @Nullable InputStream stdout;
    private final @Nullable InputStream stderr;
    /** The outcome, first one wins: recorded at once on HCS's thread, published on {@link #EXITS}. */
    private final AtomicReference<ExitStatus> outcome = new AtomicReference<>();
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final ReentrantReadWriteLock handleLock = new ReentrantReadWriteLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean killDelivered = new AtomicBoolean();
    private final AtomicBoolean stdinClosed = new AtomicBoolean();
    private final long listener;
    private volatile @Nullable Signal delivered;

    /**
     * Takes ownership of the process handle and of the stdio handles in {@code created}; on failure everything is
     * released and the process terminated, so nothing runs on unwatched.
     */
    HcsProcess(HcsApi api, String systemId, boolean linux, HcsApi.Created created, Clock clock) throws IOException {
        this.api = api;
        this.systemId = systemId;
        this.linux = linux;
        this.handle = created.process();
        this.pid = Integer.toUnsignedLong(created.info().ProcessId);
        this.clock = clock;
        HcsStdio stdio = api.stdio();
        ComputeCore.HCS_PROCESS_INFORMATION info = created.info();
        // Each wrap takes its raw handle (a failed one closes it); on failure the rest are closed raw.
        Pointer[] raw = {info.StdInput, info.StdOutput, info.StdError};
        List<AutoCloseable> opened = new ArrayList<>();
        int next = 0;
        try {
            this.stdin = HcsStdio.absent(raw[next++]) ? null : keep(opened, stdio.writer(raw[0]));
            this.stdout = HcsStdio.absent(raw[next++]) ? null : keep(opened, stdio.reader(raw[1]));
            this.stderr = HcsStdio.absent(raw[next++]) ? null : keep(opened, stdio.reader(raw[2]));
        } catch (IOException | RuntimeException e) {
            opened.forEach(HcsProcess::closeQuietly);
            for (int i = next; i < raw.length; i++) {
                if (!HcsStdio.absent(raw[i])) {
                    stdio.closeRaw(raw[i]);
                }
            }
            abandon();
            throw e;
        }
        this.listener = HcsEvents.register(this::event);
        // Registered before any relay starts, as hcsshim does.
        int hr = api.raw().HcsSetProcessCallback(handle, ComputeCore.HcsEventOptionNone, HcsEvents.context(listener),
                HcsEvents.CALLBACK);
        if (HResult.failed(hr)) {
            closeStreams();
            HcsEvents.unregister(listener);
            abandon();
            throw new HcsException("HcsSetProcessCallback " + systemId + ":" + pid, hr, null);
        }
        // HCS promises no event for an exit that came before the callback: ask once.
        checkExitedAlready();
    }

    private static <T extends AutoCloseable> T keep(List<AutoCloseable> opened, T stream) {
        opened.add(stream);
        return stream;
    }

    /** Terminates a process that cannot be followed, and closes its handle. */
    private void abandon() {
        try (HcsOperation op = new HcsOperation(api.raw(), api.stdio(), "HcsTerminateProcess " + systemId + ":" + pid)) {
            api.raw().HcsTerminateProcess(handle, op.handle(), null);
            op.await(api.timeout());
        } catch (HcsException e) {
            log.debug("terminating process {}:{} after a failed start: {}", systemId, pid, e.getMessage());
        } finally {
            api.raw().HcsCloseProcess(handle);
        }
    }

    /**
     * Asks HCS whether the process has exited and records it if so: for an exit that came before the callback, and
     * after a kill HCS reported delivered when its event does not follow.
     */
    private void checkExitedAlready() {
        try (HcsOperation op = new HcsOperation(api.raw(), api.stdio(), "HcsGetProcessProperties " + systemId + ":" + pid)) {
            String[] document = new String[1];
            onHandle(h -> {
                if (!HResult.failed(api.raw().HcsGetProcessProperties(h, op.handle(), null))) {
                    document[0] = op.await(api.timeout());
                }
            });
            HcsDocuments.ProcessStatus status = HcsDocuments.processStatus(document[0]);
            if (status != null && status.exited()) {
                record(exitStatus(status));
            }
        } catch (HcsException e) {
            log.debug("process {}:{}: no properties ({}); the exit event will tell", systemId, pid, e.getMessage());
        }
    }

    /** Runs on HCS's thread: records the outcome and returns at once (closing the handle from here would deadlock). */
    private void event(int type, @Nullable String data) {
        if (type == ComputeCore.HcsEventProcessExited) {
            HcsDocuments.ProcessStatus status = HcsDocuments.processStatus(data);
            record(status == null ? ExitStatus.lost("HCS reported the exit without a status", clock.instant())
                    : exitStatus(status));
        } else if (type == ComputeCore.HcsEventServiceDisconnect) {
            record(ExitStatus.lost("lost communication with compute service", clock.instant()));
        }
    }

    private void record(ExitStatus status) {
        if (outcome.compareAndSet(null, status)) {
            EXITS.execute(() -> exit.complete(status));
        }
    }

    private ExitStatus exitStatus(HcsDocuments.ProcessStatus process) {
        if (process.lastWaitResult() != 0) {
            String why = HResult.is(process.lastWaitResult(), HResult.HCS_E_SYSTEM_NOT_FOUND)
                    ? "the compute system " + systemId + " went away while the process ran"
                    : "HCS could not wait for the process (" + HResult.hex(process.lastWaitResult()) + ")";
            return ExitStatus.lost(why, clock.instant());
        }
        int code = (int) process.exitCode(); // Windows codes such as 0xC0000005 read as cmd.exe shows them
        Signal sent = delivered;
        if (linux && sent != null && code == 128 + sent.number()) {
            return ExitStatus.signaled(sent, clock.instant());
        }
        return ExitStatus.exited(code, clock.instant());
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public Optional<OutputStream> stdin() {
        return Optional.ofNullable(stdin);
    }

    @Override
    public Optional<InputStream> stdout() {
        return Optional.ofNullable(stdout);
    }

    @Override
    public Optional<InputStream> stderr() {
        return Optional.ofNullable(stderr);
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    /**
     * Delivers a signal. A Windows console event is sent in the background and reported delivered at once, as the
     * runhcs shim does: servercore blocks the call until the target exits.
     */
    @Override
    public void signal(Signal signal) throws IOException {
        if (!linux && signal.number() == Signal.SIGKILL.number()) {
            killNow();
            return;
        }
        if (linux) {
            send(signal, HcsDocuments.signal(signal.number()));
            return;
        }
        String options = HcsDocuments.signal(windowsEvent(signal));
        EXITS.execute(() -> {
            try {
                send(signal, options);
            } catch (IOException e) {
                log.warn("process {}:{}: {} was not delivered: {}", systemId, pid, signal.name(), e.getMessage());
            }
        });
    }

    /** A Linux signal as the Windows console event HCS delivers for it, as the runhcs shim maps them. */
    private static String windowsEvent(Signal signal) throws IOException {
        return switch (signal.number()) {
            case 2 -> "CtrlC";
            case 3 -> "CtrlBreak";
            case 1 -> "CtrlClose";
            case 15 -> "CtrlShutdown";
            default -> throw new UnsupportedSignalException(signal.name() + " has no Windows equivalent (use SIGINT/"
                    + "CtrlC, SIGQUIT/CtrlBreak, SIGHUP/CtrlClose, SIGTERM/CtrlShutdown or SIGKILL)");
        };
    }

    private void send(Signal signal, String options) throws IOException {
        if (exit.isDone()) {
            return;
        }
        delivered = signal;
        try (HcsOperation op = new HcsOperation(api.raw(), api.stdio(), "HcsSignalProcess " + systemId + ":" + pid)) {
            onHandle(h -> signalResult(op, api.raw().HcsSignalProcess(h, op.handle(), new WString(options))));
        }
    }

    /** hcsshim's {@code processSignalResult}: stopped already is fine; a lost exit event is waited out for a second. */
    private void signalResult(HcsOperation op, int hr) throws HcsException {
        try {
            op.check(hr, api.timeout());
        } catch (HcsException e) {
            if (HResult.mayLoseExitEvent(e.hresult())) {
                forceUnblockLater(e.getMessage());
                return;
            }
            if (HResult.alreadyStopped(e.hresult())) {
                return;
            }
            throw e;
        }
    }

    private void forceUnblockLater(String why) {
        CompletableFuture.runAsync(() -> {
            if (outcome.get() == null) {
                log.warn("process {}:{}: no exit event {} after {}; taken as ended", systemId, pid, FORCE_UNBLOCK, why);
                record(ExitStatus.lost("the exit event never came (" + why + ")", clock.instant()));
            }
        }, CompletableFuture.delayedExecutor(FORCE_UNBLOCK.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** Sends SIGTERM (CtrlShutdown on Windows) in the background: the exec's timer calls this and must not wait. */
    @Override
    public void terminate() {
        EXITS.execute(() -> {
            try {
                signal(Signal.SIGTERM);
            } catch (IOException e) {
                log.warn("process {}:{}: terminating failed: {}", systemId, pid, e.getMessage());
            }
        });
    }

    /**
     * Terminates the process through a freshly opened system and process handle, so the kill does not queue behind
     * a slow signal on this handle. "Already stopped" and Win32 "access denied" (what terminating a process that
     * has just ended answers) count as delivered, and a second kill is not sent. When no fresh handle can be had,
     * this handle is used.
     */
    @Override
    public void kill() {
        EXITS.execute(() -> {
            try {
                killNow();
            } catch (IOException e) {
                log.warn("process {}:{}: killing failed: {}", systemId, pid, e.getMessage());
            }
        });
    }

    /** The kill itself, on a thread that may wait for HCS. */
    private void killNow() throws IOException {
        if (closed.get() || exit.isDone() || killDelivered.get()) {
            return;
        }
        delivered = Signal.SIGKILL;
        Pointer process = null;
        HcsApi.SystemHandle system = null;
        try {
            system = api.open(systemId);
            process = system.openProcess((int) pid);
        } catch (HcsException e) {
            if (system != null && (HResult.alreadyStopped(e.hresult()) || HResult.notFound(e.hresult()))) {
                system.close();
                killDelivered.set(true);
                forceUnblockLater(e.getMessage()); // gone, or gone without telling: the event may not come
                return;
            }
            if (system != null) {
                system.close();
                system = null;
            }
            log.debug("process {}:{}: no fresh handle for the kill ({}); using its own", systemId, pid, e.getMessage());
        }
        try (HcsOperation op = new HcsOperation(api.raw(), api.stdio(), "HcsTerminateProcess " + systemId + ":" + pid)) {
            if (process != null) {
                terminateResult(op, api.raw().HcsTerminateProcess(process, op.handle(), null));
            } else if (!onHandle(h -> terminateResult(op, api.raw().HcsTerminateProcess(h, op.handle(), null)))) {
                return;
            }
            killDelivered.set(true);
            CompletableFuture.runAsync(() -> {
                if (outcome.get() == null && !closed.get()) {
                    checkExitedAlready();
                }
            }, CompletableFuture.delayedExecutor(2 * FORCE_UNBLOCK.toMillis(), TimeUnit.MILLISECONDS, EXITS));
        } finally {
            if (process != null) {
                api.raw().HcsCloseProcess(process);
            }
            if (system != null) {
                system.close();
            }
        }
    }

    private void terminateResult(HcsOperation op, int hr) throws HcsException {
        try {
            op.check(hr, api.timeout());
        } catch (HcsException e) {
            if (HResult.mayLoseExitEvent(e.hresult())) {
                forceUnblockLater(e.getMessage());
                return;
            }
            if (HResult.win32(e.hresult()) != HResult.ERROR_ACCESS_DENIED && !HResult.alreadyStopped(e.hresult())) {
                throw e;
            }
        }
    }

    @Override
    public void resize(ConsoleSize size) throws IOException {
        modify("resize", HcsDocuments.consoleSize(size));
    }

    /** Tells HCS once to close the process's stdin while it runs (it refuses after the exit), then closes our end. */
    @Override
    public void closeStdin() throws IOException {
        if (!stdinClosed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (!exit.isDone()) {
                modify("close stdin", HcsDocuments.closeStdin());
            }
        } finally {
            if (stdin != null) {
                stdin.close();
            }
        }
    }

    private void modify(String what, String settings) throws IOException {
        try (HcsOperation op = new HcsOperation(api.raw(), api.stdio(), "HcsModifyProcess (" + what + ") " + systemId + ":" + pid)) {
            if (!onHandle(h -> op.check(api.raw().HcsModifyProcess(h, op.handle(), new WString(settings)), api.timeout()))) {
                throw new IOException("the process handle is closed");
            }
        }
    }

    /** A call on the process handle, with its wait. */
    private interface HandleCall {
        void run(Pointer handle) throws HcsException;
    }

    /** Runs a call on the process handle unless it is closed (false then); {@link #close()} waits for it to end. */
    private boolean onHandle(HandleCall call) throws HcsException {
        handleLock.readLock().lock();
        try {
            if (closed.get()) {
                return false;
            }
            call.run(handle);
            return true;
        } finally {
            handleLock.readLock().unlock();
        }
    }

    /**
     * Closes the stdio handles (ending reads under way) and, once no call uses it, the process handle. HCS sends no
     * event for that, so an exit not seen by now is recorded as lost, never made up.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeStreams();
        HcsEvents.unregister(listener);
        handleLock.writeLock().lock();
        try {
            api.raw().HcsCloseProcess(handle);
        } finally {
            handleLock.writeLock().unlock();
        }
        ExitStatus seen = outcome.get();
        if (seen == null) {
            record(ExitStatus.lost("the process handle was closed before its exit was seen", clock.instant()));
        }
    }

    private void closeStreams() {
        closeQuietly(stdin);
        closeQuietly(stdout);
        closeQuietly(stderr);
    }

    private static void closeQuietly(@Nullable AutoCloseable stream) {
        if (stream != null) {
            try {
                stream.close();
            } catch (Exception ignored) {
                // closing our own handle
            }
        }
    }
}
