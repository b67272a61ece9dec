package io.execgate.host.hcs;

import java.time.Duration;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.execgate.host.BlockingThreads;
import org.jspecify.annotations.Nullable;

/**
 * One HCS operation, as hcsshim's operation helper runs it: created for one call, waited with a timeout, its result
 * document read and freed, and always closed. A call is never abandoned while HCS may still use its arguments.
 * The waits block in computecore for up to the timeout, so they run on platform threads ({@link BlockingThreads}).
 */
final class HcsOperation implements AutoCloseable {

    private final ComputeCore api;
    private final HcsStdio stdio;
    private final Pointer handle;
    private final String what;

    HcsOperation(ComputeCore api, HcsStdio stdio, String what) throws HcsException {
        this.api = api;
        this.stdio = stdio;
        this.what = what;
        Pointer created = api.HcsCreateOperation(null, null);
        if (created == null) {
            throw new HcsException(what, HResult.E_INVALIDARG, "HcsCreateOperation failed");
        }
        this.handle = created;
    }

    Pointer handle() {
        return handle;
    }

    /**
     * Checks what the call itself returned: on failure the operation's result document is read for the detail.
     */
    void check(int hr, Duration timeout) throws HcsException {
        if (HResult.failed(hr)) {
            PointerByReference document = new PointerByReference();
            api.HcsWaitForOperationResult(handle, 0, document); // whatever HCS recorded; the call's code stands
            throw new HcsException(what, hr, HcsDocuments.describeError(take(document)));
        }
        await(timeout);
    }

    /** Waits for the result; returns the result document (may be null); throws for a failed result. */
    @Nullable String await(Duration timeout) throws HcsException {
        PointerByReference document = new PointerByReference();
        int hr = BlockingThreads.call("hcs-wait", () -> api.HcsWaitForOperationResult(handle, millis(timeout), document));
        String text = take(document);
        if (HResult.failed(hr)) {
            throw new HcsException(what, hr, HcsDocuments.describeError(text));
        }
        return text;
    }

    /** Waits for a create or get-info operation's process information. Returns the HRESULT; fills {@code info}. */
    int awaitProcessInfo(Duration timeout, ComputeCore.HCS_PROCESS_INFORMATION info, StringBuilder detail) {
        PointerByReference document = new PointerByReference();
        int hr = BlockingThreads.call("hcs-wait", () -> api.HcsWaitForOperationResultAndProcessInfo(handle,
                millis(timeout), info, document));
        String text = take(document);
        if (HResult.failed(hr)) {
            detail.append(HcsDocuments.describeError(text) == null ? "" : HcsDocuments.describeError(text));
        }
        return hr;
    }

    String what() {
        return what;
    }

    private @Nullable String take(PointerByReference document) {
        Pointer value = document.getValue();
        if (value == null) {
            return null;
        }
        try {
            return value.getWideString(0);
        } finally {
            stdio.free(value);
        }
    }

    private static int millis(Duration timeout) {
        long ms = timeout.toMillis();
        return ms >= 0xFFFFFFFEL ? ComputeCore.INFINITE : (int) ms;
    }

    @Override
    public void close() {
        api.HcsCloseOperation(handle);
    }
}
