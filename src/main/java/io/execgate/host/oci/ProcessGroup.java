package io.execgate.host.oci;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import io.execgate.host.Signal;
import io.execgate.host.local.Libc;

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

    static boolean hasMembers(long pgid, long initPid) {
        String namespace = namespace(initPid);
        if (namespace == null) {
            return false; // the container is gone, and its processes with it
        }
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), p -> isNumber(p.getFileName().toString()))) {
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
        return statField(process, 2);
    }

    /** The parent of a process, or -1 when it has gone. */
    static long parentOf(long pid) {
        return statField(Path.of("/proc", Long.toString(pid)), 1);
    }

    /** A field of {@code /proc/<pid>/stat} after the command name: 0 state, 1 ppid, 2 pgrp; -1 when unreadable. */
    private static long statField(Path process, int index) {
        try {
            String stat = Files.readString(process.resolve("stat"));
            // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so count from the last ')'
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[index]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String namespace(long pid) {
        return namespace(Path.of("/proc", Long.toString(pid)));
    }

    private static String namespace(Path process) {
        try {
            return Files.readSymbolicLink(process.resolve("ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isNumber(String name) {
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }
}
