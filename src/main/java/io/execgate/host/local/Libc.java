package io.execgate.host.local;

import java.util.Map;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;

/**
 * The parts of glibc the backends call, with their C names. Public because the backends that drive a local
 * helper program (an OCI runtime) signal and size what it starts. Functions that report through
 * {@code errno} throw {@link LastErrorException}; the {@code posix_spawn} family returns the error number.
 * Needs glibc 2.34 or newer ({@code posix_spawn_file_actions_addclosefrom_np}).
 */
public interface Libc extends Library {

    Libc INSTANCE = Native.load("c", Libc.class, Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));

    int O_RDONLY = 0;
    int O_WRONLY = 1;
    int O_RDWR = 2;
    int O_NOCTTY = 0x100;
    int O_NONBLOCK = 0x800;
    int O_CLOEXEC = 0x80000;
    int O_NOFOLLOW = 0x20000;
    int O_DIRECTORY = 0x10000;
    int O_PATH = 0x200000;
    int ENOSYS = 38;
    long SYS_OPENAT2 = 437;
    long RESOLVE_NO_MAGICLINKS = 0x02;
    long RESOLVE_NO_SYMLINKS = 0x04;
    int AT_FDCWD = -100;
    int ELOOP = 40;
    long RESOLVE_IN_ROOT = 0x10;
    int EINTR = 4;
    int ESRCH = 3;
    int EIO = 5;
    int ECHILD = 10;
    int EAGAIN = 11;
    int ENOTTY = 25;
    int EBADF = 9;
    int ENOENT = 2;
    int ENXIO = 6;
    int EPIPE = 32;
    long TIOCSWINSZ = 0x5414;
    /** {@code ioctl} request: how many bytes a pipe or terminal holds unread. */
    long FIONREAD = 0x541B;
    /** The Linux system call numbers, the same on every architecture since 5.1's unified table. */
    long SYS_PIDFD_SEND_SIGNAL = 424;
    long SYS_PIDFD_OPEN = 434;
    long SYS_PIDFD_GETFD = 438;
    short POLLIN = 0x1;
    short POLLOUT = 0x4;
    short POLLERR = 0x8;
    short POLLHUP = 0x10;
    short POSIX_SPAWN_SETSIGDEF = 0x04;
    short POSIX_SPAWN_SETSIGMASK = 0x08;
    short POSIX_SPAWN_SETSID = 0x80;
    int P_PID = 1;
    int WEXITED = 4;
    int WNOWAIT = 0x01000000;
    /** Bytes to allocate for glibc's opaque types; larger than any glibc so far (336, 80, 128 and 128). */
    int SPAWNATTR_SIZE = 512;
    int FILE_ACTIONS_SIZE = 256;
    int SIGSET_SIZE = 128;
    int SIGINFO_SIZE = 128;

    int posix_spawn(IntByReference pid, String path, Pointer fileActions, Pointer attributes, String[] argv,
            String[] envp);

    int posix_spawn_file_actions_init(Pointer fileActions);

    int posix_spawn_file_actions_destroy(Pointer fileActions);

    int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

    int posix_spawn_file_actions_addopen(Pointer fileActions, int fd, String path, int flags, int mode);

    int posix_spawn_file_actions_addchdir_np(Pointer fileActions, String path);

    int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

    int posix_spawnattr_init(Pointer attributes);

    int posix_spawnattr_destroy(Pointer attributes);

    int posix_spawnattr_setflags(Pointer attributes, short flags);

    int posix_spawnattr_setsigmask(Pointer attributes, Pointer sigset);

    int posix_spawnattr_setsigdefault(Pointer attributes, Pointer sigset);

    int sigemptyset(Pointer sigset);

    int sigfillset(Pointer sigset);

    int pipe2(int[] fds, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int kill(int pid, int signal) throws LastErrorException;

    int waitid(int idType, int id, Pointer siginfo, int options) throws LastErrorException;

    int waitpid(int pid, IntByReference status, int options) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int mkfifo(String path, int mode) throws LastErrorException;

    int fchown(int fd, int owner, int group) throws LastErrorException;

    int F_GETFL = 3;
    int F_SETFL = 4;

    int fcntl(int fd, int command, int argument) throws LastErrorException;

    void free(Pointer pointer);

    int grantpt(int fd) throws LastErrorException;

    int unlockpt(int fd) throws LastErrorException;

    /** Returns 0 or an error number; {@code ptsname} itself is not thread-safe. */
    int ptsname_r(int fd, byte[] buffer, NativeLong length);

    int ioctl(int fd, NativeLong request, winsize size) throws LastErrorException;

    int ioctl(int fd, NativeLong request, IntByReference count) throws LastErrorException;

    int poll(pollfd[] fds, int count, int timeoutMillis) throws LastErrorException;

    /**
     * Unlike the others, returns -1 and leaves {@code errno} in {@link Native#getLastError()}: an empty
     * non-blocking pipe's {@code EAGAIN} is its everyday answer, and an exception for it cost 5 to 7 µs per read.
     */
    NativeLong read(int fd, Pointer buffer, NativeLong count);

    NativeLong write(int fd, Pointer buffer, NativeLong count) throws LastErrorException;

    /** The same, from a Java array (JNA copies it to native memory for the call). */
    NativeLong write(int fd, byte[] buffer, NativeLong count) throws LastErrorException;

    /**
     * A raw system call, for {@code pidfd_open} and {@code pidfd_send_signal}, whose glibc wrappers only came
     * in 2.36. Returns -1 and sets {@code errno} on failure.
     */
    long syscall(long number, Object... args) throws LastErrorException;

    int geteuid();

    int getegid();

    String strerror(int errno);

    /** {@code struct winsize} of {@code <sys/ioctl.h>}: rows first. */
    @Structure.FieldOrder({"ws_row", "ws_col", "ws_xpixel", "ws_ypixel"})
    final class winsize extends Structure {
        public short ws_row;
        public short ws_col;
        public short ws_xpixel;
        public short ws_ypixel;
    }

    /** {@code struct open_how} of {@code <linux/openat2.h>}, for {@code openat2}. */
    @Structure.FieldOrder({"flags", "mode", "resolve"})
    final class open_how extends Structure {
        public long flags;
        public long mode;
        public long resolve;
    }

    /** {@code struct pollfd} of {@code <poll.h>}. */
    @Structure.FieldOrder({"fd", "events", "revents"})
    final class pollfd extends Structure {
        public int fd;
        public short events;
        public short revents;
    }
}
