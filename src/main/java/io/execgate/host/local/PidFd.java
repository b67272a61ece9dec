package io.execgate.host.local;

import java.io.IOException;

import com.sun.jna.LastErrorException;
import io.execgate.host.Signal;
import io.execgate.host.local.PolledDescriptor.DescriptorException;
import org.jspecify.annotations.Nullable;

/**
 * A pidfd: signals reach the process it was opened for and no other, even after its pid is reused, and its exit
 * can be waited for (the pidfd turns readable) without being its parent. The container backend holds one for each
 * process a runtime started; the host backend opens one for each member of a session it kills.
 */
public final class PidFd implements AutoCloseable {

    private static final Libc LIBC = Libc.INSTANCE;

    private final long pid;
    private final PolledDescriptor descriptor;

    private PidFd(long pid, PolledDescriptor descriptor) {
        this.pid = pid;
        this.descriptor = descriptor;
    }

    /** A pidfd for {@code pid}, or null when no such process exists. */
    public static @Nullable PidFd open(long pid) throws IOException {
        int fd;
        try {
            fd = (int) LIBC.syscall(Libc.SYS_PIDFD_OPEN, pid, 0L);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Libc.ESRCH) {
                return null;
            }
            throw new IOException("pidfd_open " + pid + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
        return new PidFd(pid, PolledDescriptor.of(fd));
    }

    /** Whether this kernel has pidfds (Linux 5.3) and lets the service use them (seccomp). */
    public static @Nullable String unsupportedBecause() {
        try (PidFd self = open(ProcessHandle.current().pid())) {
            return self == null ? "pidfd_open found no process for the service itself" : null;
        } catch (IOException | UnsatisfiedLinkError e) {
            return e.getMessage() + " (pidfds need Linux 5.3)";
        }
    }

    /** Sends a signal to the process; false when it has exited (or this pidfd is closed). */
    public boolean send(Signal signal) throws IOException {
        if (descriptor.isClosed()) {
            return false;
        }
        try {
            descriptor.use("pidfd_send_signal " + pid + " " + signal.name(),
                    fd -> LIBC.syscall(Libc.SYS_PIDFD_SEND_SIGNAL, (long) fd, (long) signal.number(), 0L, 0L));
            return true;
        } catch (DescriptorException e) {
            if (e.errno() == Libc.ESRCH) {
                return false;
            }
            throw e;
        } catch (IOException e) {
            if (descriptor.isClosed()) {
                return false; // closed meanwhile: the process has ended
            }
            throw e;
        }
    }

    /**
     * A descriptor of this service's for the open file the process has as {@code targetFd} ({@code pidfd_getfd},
     * Linux 5.6): the same open file, not a new open of what it names, so whatever the process put there is never
     * opened by the service. The caller closes it.
     *
     * @return the new descriptor (close-on-exec), or -1 when the process has exited or has no such descriptor
     */
    public int copyDescriptor(int targetFd) throws IOException {
        if (descriptor.isClosed()) {
            return -1;
        }
        long[] copy = {-1};
        try {
            descriptor.use("pidfd_getfd " + pid + " " + targetFd,
                    fd -> copy[0] = LIBC.syscall(Libc.SYS_PIDFD_GETFD, (long) fd, (long) targetFd, 0L));
            return (int) copy[0];
        } catch (DescriptorException e) {
            if (e.errno() == Libc.ESRCH || e.errno() == Libc.EBADF) {
                return -1;
            }
            throw e;
        } catch (IOException e) {
            if (descriptor.isClosed()) {
                return -1;
            }
            throw e;
        }
    }

    /** Whether the process has exited (it may still be its parent's zombie). */
    public boolean exited() {
        return descriptor.isClosed() || descriptor.readable();
    }

    /** Waits for the process to exit; false when this pidfd is closed first. */
    public boolean awaitExit() throws IOException {
        return descriptor.awaitReadable();
    }

    @Override
    public void close() {
        descriptor.close();
    }
}
