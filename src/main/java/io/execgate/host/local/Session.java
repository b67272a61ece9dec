package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.sun.jna.LastErrorException;
import io.execgate.host.Signal;
import org.jspecify.annotations.Nullable;

/**
 * Every process of the session an exec leads. The leader's process group is not all the exec started: an
 * interactive shell on a terminal (job control) puts each job in a group of its own. The session holds them all,
 * short of a process that made a session of its own ({@code setsid}, a daemon meant to outlive the exec).
 *
 * <p>Call only while the leader is unreaped: its pid then cannot be reused, so no other session can have that id,
 * and every process whose {@code /proc/<pid>/stat} names it is the exec's.
 */
public final class Session {

    private static final Libc LIBC = Libc.INSTANCE;
    /** Killed processes cannot fork; rounds only catch what was forked while a round read {@code /proc}. */
    private static final int MAX_ROUNDS = 50;
    private static final int STATE = ProcStat.STATE;
    private static final int SESSION = ProcStat.SESSION;
    private static final int START_TIME = ProcStat.START_TIME;

    private Session() {
    }

    /**
     * At most this many members are held by {@link #members} (each pidfd costs three descriptors with its wake-up
     * pipe): a terminal's shell and its jobs, not a fork bomb's record; the group's signals still reach the rest.
     */
    private static final int MAX_MEMBERS = 256;

    /**
     * pidfds on the live processes of session {@code sid}, the leader included, each checked to be in the session
     * once held: signals through them reach those processes and no others, however long after. Call while the
     * leader lives, so that the id names this session; the caller closes them.
     */
    public static List<PidFd> members(int sid) {
        List<PidFd> members = new ArrayList<>();
        try (DirectoryStream<Path> processes = ProcStat.processes()) {
            for (Path process : processes) {
                if (members.size() == MAX_MEMBERS) {
                    break;
                }
                if (liveMember(ProcStat.fields(process), sid) == null) {
                    continue;
                }
                int pid = Integer.parseInt(process.getFileName().toString());
                PidFd member = PidFd.open(pid);
                if (member != null && inSession(pid, sid)) {
                    members.add(member);
                } else if (member != null) {
                    member.close();
                }
            }
        } catch (IOException | RuntimeException e) {
            // /proc unreadable, or no pidfds: the members found so far
        }
        return members;
    }

    /** SIGKILLs every live process of session {@code sid}, the leader included; rounds until a round finds none new. */
    static void killAll(int sid) {
        Set<String> signalled = new HashSet<>();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean found = false;
            try (DirectoryStream<Path> processes = ProcStat.processes()) {
                for (Path process : processes) {
                    String[] stat = liveMember(ProcStat.fields(process), sid);
                    if (stat == null) {
                        continue;
                    }
                    // pid and start time name one process, so a pid reused meanwhile counts as new
                    if (signalled.add(process.getFileName() + "@" + stat[START_TIME])) {
                        found = true;
                        kill(Integer.parseInt(process.getFileName().toString()), sid);
                    }
                }
            } catch (IOException | RuntimeException e) {
                return; // /proc unreadable: the leader's group was killed, which is all that can be done
            }
            if (!found) {
                return;
            }
        }
    }

    /**
     * Kills {@code pid} through a pidfd, after checking that the process the pidfd holds is still in the session: a
     * member that exited and was reaped since {@code /proc} was read may have left its pid to a stranger.
     */
    private static void kill(int pid, int sid) {
        try (PidFd process = PidFd.open(pid)) {
            if (process != null && inSession(pid, sid)) {
                process.send(Signal.SIGKILL);
            }
        } catch (IOException e) {
            killWithoutPidfd(pid, sid); // no pidfds (before Linux 5.3, or refused by seccomp)
        }
    }

    /** The same check and kill by pid: only a member reaped within these few instructions could be missed. */
    private static void killWithoutPidfd(int pid, int sid) {
        if (inSession(pid, sid)) {
            try {
                LIBC.kill(pid, Signal.SIGKILL.number());
            } catch (LastErrorException ignored) {
                // ESRCH: it exited meanwhile
            }
        }
    }

    /** The {@code /proc/<pid>/stat} fields of a process that lives (not a zombie) in session {@code sid}, else null. */
    private static String @Nullable [] liveMember(String @Nullable [] stat, int sid) {
        return stat == null || "Z".equals(stat[STATE]) || !Integer.toString(sid).equals(stat[SESSION]) ? null : stat;
    }

    private static boolean inSession(int pid, int sid) {
        String[] stat = ProcStat.fields(ProcStat.of(pid));
        return stat != null && Integer.toString(sid).equals(stat[SESSION]);
    }
}
