package io.execgate.host.hcs;

import java.time.Duration;
import java.util.List;

import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.ptr.PointerByReference;
import org.jspecify.annotations.Nullable;

/**
 * The owning facade over {@link ComputeCore}: turns HRESULTs into {@link HcsException}s, runs every call through an
 * {@link HcsOperation}, and hands out handles as {@link AutoCloseable}s that close them.
 */
final class HcsApi {

    private final ComputeCore api;
    private final HcsStdio stdio;
    private final Duration timeout;

    HcsApi(ComputeCore api, HcsStdio stdio, Duration timeout) {
        this.api = api;
        this.stdio = stdio;
        this.timeout = timeout;
    }

    ComputeCore raw() {
        return api;
    }

    HcsStdio stdio() {
        return stdio;
    }

    Duration timeout() {
        return timeout;
    }

    List<HcsDocuments.SystemProperties> enumerate() throws HcsException {
        try (HcsOperation op = new HcsOperation(api, stdio, "HcsEnumerateComputeSystems")) {
            int hr = api.HcsEnumerateComputeSystems(null, op.handle());
            if (HResult.failed(hr)) {
                op.check(hr, timeout);
            }
            return HcsDocuments.systems(op.await(timeout));
        }
    }

    SystemHandle open(String id) throws HcsException {
        PointerByReference system = new PointerByReference();
        int hr = api.HcsOpenComputeSystem(new WString(id), ComputeCore.GENERIC_ALL, system);
        if (HResult.failed(hr)) {
            throw new HcsException("HcsOpenComputeSystem " + id, hr, null);
        }
        return new SystemHandle(id, system.getValue());
    }

    /** A process HCS created, and its information (the stdio handles are the caller's). */
    record Created(Pointer process, ComputeCore.HCS_PROCESS_INFORMATION info) {
    }

    /** An open compute system. */
    final class SystemHandle implements AutoCloseable {
        private final String id;
        private final Pointer handle;
        private boolean closed;

        private SystemHandle(String id, Pointer handle) {
            this.id = id;
            this.handle = handle;
        }

        /**
         * Creates a process. When the wait fails although HCS returned a process handle (Windows Server 2022 completes
         * some creates synchronously and then fails the wait), the information is fetched again with
         * {@code HcsGetProcessInfo}, as hcsshim does; only if that fails too is the create a failure.
         */
        Created createProcess(String parameters, String description) throws HcsException {
            PointerByReference process = new PointerByReference();
            try (HcsOperation op = new HcsOperation(api, stdio, "HcsCreateProcess " + id + ": " + description)) {
                int hr = api.HcsCreateProcess(handle, new WString(parameters), op.handle(), null, process);
                Pointer created = process.getValue();
                if (HResult.failed(hr)) {
                    if (created != null) {
                        api.HcsCloseProcess(created);
                    }
                    op.check(hr, timeout);
                }
                ComputeCore.HCS_PROCESS_INFORMATION info = new ComputeCore.HCS_PROCESS_INFORMATION();
                StringBuilder detail = new StringBuilder();
                int waited = op.awaitProcessInfo(timeout, info, detail);
                if (!HResult.failed(waited)) {
                    return new Created(created, info);
                }
                if (created != null) {
                    ComputeCore.HCS_PROCESS_INFORMATION again = processInfo(created);
                    if (again != null) {
                        return new Created(created, again);
                    }
                    api.HcsCloseProcess(created);
                }
                throw new HcsException(op.what(), waited, detail.isEmpty() ? null : detail.toString());
            }
        }

        private ComputeCore.@Nullable HCS_PROCESS_INFORMATION processInfo(Pointer process) throws HcsException {
            try (HcsOperation op = new HcsOperation(api, stdio, "HcsGetProcessInfo " + id)) {
                if (HResult.failed(api.HcsGetProcessInfo(process, op.handle()))) {
                    return null;
                }
                ComputeCore.HCS_PROCESS_INFORMATION info = new ComputeCore.HCS_PROCESS_INFORMATION();
                return HResult.failed(op.awaitProcessInfo(timeout, info, new StringBuilder())) ? null : info;
            }
        }

        /** Opens a process by pid; the caller closes it with {@code HcsCloseProcess}. */
        Pointer openProcess(int pid) throws HcsException {
            PointerByReference process = new PointerByReference();
            int hr = api.HcsOpenProcess(handle, pid, ComputeCore.GENERIC_ALL, process);
            if (HResult.failed(hr)) {
                throw new HcsException("HcsOpenProcess " + id + ":" + pid, hr, null);
            }
            return process.getValue();
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                api.HcsCloseComputeSystem(handle);
            }
        }
    }
}
