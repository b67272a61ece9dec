package io.execgate.host.local;

import java.util.Map;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The parts of glibc the local backend calls, with their C names. Functions that report through
 * {@code errno} throw {@link LastErrorException}; the {@code posix_spawn} family returns the error number.
 * Needs glibc 2.34 or newer ({@code posix_spawn_file_actions_addclosefrom_np}).
 */
interface Libc extends Library {

    Libc INSTANCE = Native.load("c", Libc.class, Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));

    int O_RDONLY = 0;
    int O_CLOEXEC = 0x80000;
    int EINTR = 4;
    int ESRCH = 3;
    int ECHILD = 10;
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

    int geteuid();

    int getegid();

    String strerror(int errno);
}
