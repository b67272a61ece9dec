package io.execgate.host.hcs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.jspecify.annotations.Nullable;

/**
 * What HCS hands back besides handles to its objects: stdio handles the caller reads, writes and closes, and result
 * documents the caller frees. Kernel32 on Windows ({@link Win32Stdio}); file descriptors and {@code free} under the
 * Linux fake ({@link PosixStdio}).
 */
interface HcsStdio {

    /**
     * A stdout or stderr handle as a stream whose {@code close} ends a read under way and closes the handle. Takes
     * the handle even when it fails (it is closed then).
     */
    InputStream reader(Pointer handle) throws IOException;

    /** A stdin handle as a stream whose {@code close} closes the handle. */
    OutputStream writer(Pointer handle) throws IOException;

    /** Closes a handle that was never wrapped. */
    void closeRaw(Pointer handle);

    /** Frees a string HCS returned. */
    void free(Pointer string);

    /** Null or {@code INVALID_HANDLE_VALUE}: HCS made no such stream. */
    static boolean absent(@Nullable Pointer handle) {
        return handle == null || Pointer.nativeValue(handle) == 0 || Pointer.nativeValue(handle) == -1;
    }

    static HcsStdio forPlatform() {
        return Platform.isWindows() ? new Win32Stdio() : new PosixStdio();
    }
}
