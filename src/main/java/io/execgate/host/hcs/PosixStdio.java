package io.execgate.host.hcs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import io.execgate.host.local.Libc;
import io.execgate.host.local.PolledDescriptor;

/**
 * The fake computecore's stdio: file descriptors where HCS returns handles, made non-blocking and polled, so a close
 * ends a read under way as closing an HCS handle does on Windows.
 */
final class PosixStdio implements HcsStdio {

    private static final Libc LIBC = Libc.INSTANCE;

    @Override
    public InputStream reader(Pointer handle) throws IOException {
        return open(handle).inputStream();
    }

    @Override
    public OutputStream writer(Pointer handle) throws IOException {
        return open(handle).outputStream();
    }

    private PolledDescriptor open(Pointer handle) throws IOException {
        int fd = (int) Pointer.nativeValue(handle);
        try {
            LIBC.fcntl(fd, Libc.F_SETFL, LIBC.fcntl(fd, Libc.F_GETFL, 0) | Libc.O_NONBLOCK);
        } catch (LastErrorException e) {
            closeRaw(handle);
            throw new IOException("fcntl " + fd + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
        return PolledDescriptor.of(fd); // closes the descriptor when it fails
    }

    @Override
    public void closeRaw(Pointer handle) {
        try {
            LIBC.close((int) Pointer.nativeValue(handle));
        } catch (LastErrorException ignored) {
            // our own descriptor
        }
    }

    @Override
    public void free(Pointer string) {
        LIBC.free(string);
    }
}
