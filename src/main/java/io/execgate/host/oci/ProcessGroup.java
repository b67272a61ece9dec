package io.execgate.host.oci;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import io.execgate.host.Signal;
import io.execgate.host.local.Libc;
import io.execgate.host.local.PidFd;
import io.execgate.host.local.ProcStat;

/**
 * The process group an exec'd process leads (the runtimes start it in a session of its own), after the leader
 * itself has gone: its background children may still hold the exec's output. A group id stays taken while a
 * member lives, so the group is signalled only when members are found, and only those in the container's pid
 * namespace count.
 */
final class ProcessGroup {

    private static final Libc LIBC = Libc.INSTANCE;

    private ProcessGroup() {
    }

    /**
     * Signals what is left of group {@code pgid} in the pid namespace of {@code initPid}; false when nothing is.
     */
    static boolean signalRemaining(long pgid, long initPid, Signal signal) throws IOException {
        if (!hasMembers(pgid, initPid)) {
            return false;
        }
        try {
            LIBC.kill((int) -pgid, signal.number());
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Libc.ESRCH) {
                return false;
            }
            throw new IOException("kill -" + pgid + " " + signal.name() + ": " + LIBC.strerror(e.getErrorCode()), e);
        }
    }

    /**
     * Signals a live leader's group, the leader with it: the live leader holds its group id, so the group cannot be
     * another one's. A leader that left its group (no group by that id) gets the signal alone, through its pidfd.
     */
    static void signalLive(PidFd leader, long pid, Signal signal) throws IOException {
        try {
            LIBC.kill((int) -pid, signal.number());
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Libc.ESRCH) {
                throw new IOException("kill -" + pid + " " + signal.name() + ": " + LIBC.strerror(e.getErrorCode()), e);
            }
            leader.send(signal);
        }
    }

    static boolean hasMembers(long pgid, long initPid) {
        String namespace = namespace(initPid);
        if (namespace == null) {
            return false; // the container is gone, and its processes with it
        }
        try (DirectoryStream<Path> processes = ProcStat.processes()) {
            for (Path process : processes) {
                if (pgid == group(process) && namespace.equals(namespace(process))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static long group(Path process) {
        return statField(process, ProcStat.GROUP);
    }

    /** The parent of a process, or -1 when it has gone. */
    static long parentOf(long pid) {
        return statField(ProcStat.of(pid), ProcStat.PARENT);
    }

    /** A field of {@code /proc/<pid>/stat} ({@link ProcStat}'s indexes); -1 when the process has gone. */
    private static long statField(Path process, int index) {
        String[] fields = ProcStat.fields(process);
        return fields == null ? -1 : Long.parseLong(fields[index]);
    }

    private static String namespace(long pid) {
        return namespace(ProcStat.of(pid));
    }

    private static String namespace(Path process) {
        try {
            return Files.readSymbolicLink(process.resolve("ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }
}
