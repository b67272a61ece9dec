package io.execgate.host.hcs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinError;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;

/**
 * HCS's stdio handles on Windows, which hcsshim treats as overlapped pipe handles: each read and write is an
 * overlapped call waited with {@code GetOverlappedResult} on the relay's platform thread; a broken or closed pipe
 * reads as end-of-file; {@link HandleStream#close()} cancels the call under way ({@code CancelIoEx}) and closes the
 * handle only once no call uses it, so a handle value Windows may reuse is never read. Result documents are freed
 * with {@code LocalFree}, as the HCS documentation says. Not run here: the Linux build tests {@link PosixStdio}
 * against the fake.
 */
final class Win32Stdio implements HcsStdio {

    private static final Kernel32 KERNEL32 = Kernel32.INSTANCE;
    private static final int ERROR_NO_DATA = 232;
    private static final int ERROR_PIPE_NOT_CONNECTED = 233;
    /** {@code OVERLAPPED} on x64: Internal, InternalHigh (ULONG_PTR), Offset, OffsetHigh (DWORD), hEvent. */
    private static final int OVERLAPPED_SIZE = 32;
    private static final int OVERLAPPED_EVENT = 24;
    private static final int CHUNK = 64 * 1024;

    /** Kernel32 with pointer buffers, which overlapped calls need (a Java array is copied only for the call). */
    interface OverlappedIo extends Library {
        OverlappedIo INSTANCE = Native.load("kernel32", OverlappedIo.class);

        boolean ReadFile(WinNT.HANDLE file, Pointer buffer, int length, Pointer read, Pointer overlapped);

        boolean WriteFile(WinNT.HANDLE file, Pointer buffer, int length, Pointer written, Pointer overlapped);

        boolean GetOverlappedResult(WinNT.HANDLE file, Pointer overlapped, IntByReference transferred, boolean wait);

        boolean CancelIoEx(WinNT.HANDLE file, Pointer overlapped);
    }

    @Override
    public InputStream reader(Pointer handle) {
        HandleStream stream = new HandleStream(handle);
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                return length == 0 ? 0 : stream.read(buffer, offset, length);
            }

            @Override
            public void close() {
                stream.close();
            }
        };
    }

    @Override
    public OutputStream writer(Pointer handle) {
        HandleStream stream = new HandleStream(handle);
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                stream.write(buffer, offset, length);
            }

            @Override
            public void close() {
                stream.close();
            }
        };
    }

    @Override
    public void closeRaw(Pointer handle) {
        KERNEL32.CloseHandle(new WinNT.HANDLE(handle));
    }

    @Override
    public void free(Pointer string) {
        KERNEL32.LocalFree(string);
    }

    /** One handle: one call at a time each way, closed only when no call uses it. */
    private static final class HandleStream {
        private final WinNT.HANDLE handle;
        private final WinNT.HANDLE event = KERNEL32.CreateEvent(null, true, false, null);
        private final Memory overlapped = new Memory(OVERLAPPED_SIZE);
        private final Memory buffer = new Memory(CHUNK);
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        private volatile boolean closed;

        HandleStream(Pointer handle) {
            this.handle = new WinNT.HANDLE(handle);
        }

        synchronized int read(byte[] into, int offset, int length) throws IOException {
            lock.readLock().lock();
            try {
                while (!closed) {
                    int n = transfer(false, Math.min(length, CHUNK));
                    if (n < 0) {
                        return -1;
                    }
                    if (n > 0) {
                        buffer.read(0, into, offset, n);
                        return n;
                    }
                }
                return -1;
            } finally {
                lock.readLock().unlock();
            }
        }

        synchronized void write(byte[] from, int offset, int length) throws IOException {
            lock.readLock().lock();
            try {
                int done = 0;
                while (done < length) {
                    if (closed) {
                        throw new IOException("the handle is closed");
                    }
                    int chunk = Math.min(length - done, CHUNK);
                    buffer.write(0, from, offset + done, chunk);
                    int n = transfer(true, chunk);
                    if (n < 0) {
                        throw new IOException("the pipe is closed");
                    }
                    done += n;
                }
            } finally {
                lock.readLock().unlock();
            }
        }

        /** One overlapped call, waited for; -1 when the pipe has ended or the call was cancelled. */
        private int transfer(boolean write, int length) throws IOException {
            overlapped.clear();
            overlapped.setPointer(OVERLAPPED_EVENT, event.getPointer());
            KERNEL32.ResetEvent(event);
            boolean done = write ? OverlappedIo.INSTANCE.WriteFile(handle, buffer, length, null, overlapped)
                    : OverlappedIo.INSTANCE.ReadFile(handle, buffer, length, null, overlapped);
            if (!done && KERNEL32.GetLastError() != WinError.ERROR_IO_PENDING) {
                return ended(KERNEL32.GetLastError());
            }
            IntByReference transferred = new IntByReference();
            if (!OverlappedIo.INSTANCE.GetOverlappedResult(handle, overlapped, transferred, true)) {
                return ended(KERNEL32.GetLastError());
            }
            return transferred.getValue();
        }

        private static int ended(int error) throws IOException {
            if (error == WinError.ERROR_BROKEN_PIPE || error == ERROR_NO_DATA || error == ERROR_PIPE_NOT_CONNECTED
                    || error == WinError.ERROR_OPERATION_ABORTED || error == WinError.ERROR_HANDLE_EOF) {
                return -1;
            }
            throw new IOException("pipe I/O failed: error " + error);
        }

        /** Cancels the call under way until the caller is out, then closes the handle and its event. */
        void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                while (!lock.writeLock().tryLock(10, TimeUnit.MILLISECONDS)) {
                    OverlappedIo.INSTANCE.CancelIoEx(handle, null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // the handle stays open rather than being closed under a call
            }
            try {
                KERNEL32.CloseHandle(handle);
                KERNEL32.CloseHandle(event);
            } finally {
                lock.writeLock().unlock();
            }
        }
    }
}
