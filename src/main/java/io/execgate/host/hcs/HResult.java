package io.execgate.host.hcs;

import java.util.Locale;

/**
 * HRESULTs as HCS returns them, matched the way hcsshim matches them but in both severity forms (computecore
 * returns {@code 0x8037xxxx}, the older vmcompute {@code 0xC037xxxx}) and with Win32 codes folded to their low word.
 */
final class HResult {

    static final int E_INVALIDARG = 0x80070057;
    static final int ERROR_ACCESS_DENIED = 5;
    static final int ERROR_NOT_FOUND = 1168;
    static final int ERROR_INVALID_DATA = 13;
    static final int ERROR_NOT_SUPPORTED = 50;
    static final int HCS_E_INVALID_STATE = 0x80370105;
    static final int HCS_E_UNKNOWN_MESSAGE = 0x8037010B;
    static final int HCS_E_INVALID_JSON = 0x8037010D;
    static final int HCS_E_SYSTEM_NOT_FOUND = 0x8037010E;
    static final int HCS_E_SYSTEM_ALREADY_STOPPED = 0x80370110;
    static final int HCS_E_OPERATION_TIMEOUT = 0x80370118;
    static final int HCS_E_ACCESS_DENIED = 0x8037011B;
    static final int HCS_E_SERVICE_DISCONNECT = 0x8037011E;
    static final int HCS_E_PROCESS_ALREADY_STOPPED = 0x8037011F;

    private static final int FACILITY_WIN32 = 0x00070000;
    private static final int FACILITY_HCS = 0x00370000;

    private HResult() {
    }

    static boolean failed(int hr) {
        return hr < 0;
    }

    /** The Win32 error code of a FACILITY_WIN32 HRESULT (0x80070490 is 1168), else the HRESULT itself. */
    static int win32(int hr) {
        return hr < 0 && (hr & 0x1FFF0000) == FACILITY_WIN32 ? hr & 0xFFFF : hr;
    }

    /** Whether {@code hr} is the HCS code {@code hcs} in either severity form. */
    static boolean is(int hr, int hcs) {
        return hr < 0 && (hr & 0x0FFFFFFF) == (hcs & 0x0FFFFFFF) && (hcs & 0x0FFF0000) == FACILITY_HCS;
    }

    /** The system or process does not exist (any more). */
    static boolean notFound(int hr) {
        return is(hr, HCS_E_SYSTEM_NOT_FOUND) || win32(hr) == ERROR_NOT_FOUND;
    }

    /** It has stopped already: a kill of it is done. */
    static boolean alreadyStopped(int hr) {
        return is(hr, HCS_E_SYSTEM_ALREADY_STOPPED) || is(hr, HCS_E_PROCESS_ALREADY_STOPPED) || win32(hr) == ERROR_NOT_FOUND;
    }

    static boolean notSupported(int hr) {
        return is(hr, HCS_E_INVALID_JSON) || is(hr, HCS_E_UNKNOWN_MESSAGE) || win32(hr) == ERROR_INVALID_DATA
                || win32(hr) == ERROR_NOT_SUPPORTED;
    }

    static boolean accessDenied(int hr) {
        return is(hr, HCS_E_ACCESS_DENIED) || win32(hr) == ERROR_ACCESS_DENIED;
    }

    static boolean timedOut(int hr) {
        return is(hr, HCS_E_OPERATION_TIMEOUT);
    }

    /** A signal or kill that failed this way may never be followed by the exit event (hcsshim's force-unblock). */
    static boolean mayLoseExitEvent(int hr) {
        return is(hr, HCS_E_INVALID_STATE) || is(hr, HCS_E_SYSTEM_NOT_FOUND) || win32(hr) == ERROR_NOT_FOUND;
    }

    static String hex(int hr) {
        return String.format(Locale.ROOT, "0x%08X", hr);
    }
}
