package io.execgate.host.hcs;

import java.io.IOException;

import org.jspecify.annotations.Nullable;

/**
 * A failed HCS call: its HRESULT, what was being done, and the result document's error message and event details
 * when HCS gave one, in hcsshim's wording ({@code "<op> <system>: <cause>"}).
 */
final class HcsException extends IOException {

    private final int hresult;

    HcsException(String operation, int hresult, @Nullable String detail) {
        super(operation + ": " + (detail != null && !detail.isBlank() ? detail : "HRESULT " + HResult.hex(hresult))
                + (detail != null && !detail.isBlank() ? " (" + HResult.hex(hresult) + ")" : ""));
        this.hresult = hresult;
    }

    int hresult() {
        return hresult;
    }
}
