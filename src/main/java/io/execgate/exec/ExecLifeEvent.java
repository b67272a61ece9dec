package io.execgate.exec;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A JFR event per exec: where its time went, phase by phase, from its admission to its recorded end. It costs
 * a few clock reads per exec when no recording asks for it. {@code bench/run} records it to show what bounds
 * exec latency; anyone can, on a running service:
 * {@code jcmd <pid> JFR.start settings=none +io.execgate.ExecLife#enabled=true filename=life.jfr}, then
 * {@code jfr print --events io.execgate.ExecLife life.jfr}.
 */
@Name("io.execgate.ExecLife")
@Label("Exec Life")
@Category("execgate")
@Description("One exec from its admission to its recorded end, by phase")
@StackTrace(false)
final class ExecLifeEvent extends Event {

    @Label("Exec Id")
    String execId;

    @Label("Target")
    String target;

    @Label("Exit Code")
    int exitCode = -1;

    @Label("Reason")
    String reason;

    @Label("Admit")
    @Description("From the exec's creation to its spawn: the record's first write and the start's audit entry")
    @Timespan
    long admit;

    @Label("Spawn")
    @Description("The backend's start call (posix_spawn and pipes, a runtime invocation, an agent request)")
    @Timespan
    long spawn;

    @Label("Follow")
    @Description("After the spawn, handing the relays and the waiter their work")
    @Timespan
    long follow;

    @Label("Run")
    @Description("From the end of the spawn to the exit, as the waiter saw it")
    @Timespan
    long run;

    @Label("Drain")
    @Description("From the exit until the relays reached end-of-file")
    @Timespan
    long drain;

    @Label("Record")
    @Description("From the drained output to the end recorded in the store and told to the observers (audit)")
    @Timespan
    long record;

    private transient long created;
    private transient long spawning;
    private transient long spawned;
    private transient long followed;
    private transient long exited;
    private transient long drained;

    ExecLifeEvent(String execId, String target) {
        this.execId = execId;
        this.target = target;
        this.created = System.nanoTime();
        begin();
    }

    void spawning() {
        spawning = System.nanoTime();
    }

    void spawned() {
        spawned = System.nanoTime();
    }

    void followed() {
        followed = System.nanoTime();
    }

    void exited() {
        exited = System.nanoTime();
    }

    void drained() {
        drained = System.nanoTime();
    }

    /** The exec has ended and been recorded: the phases it went through become the event's fields. */
    void ended(@org.jspecify.annotations.Nullable Integer code, String why) {
        long now = System.nanoTime();
        end();
        if (!shouldCommit()) {
            return;
        }
        exitCode = code == null ? -1 : code;
        reason = why;
        admit = between(created, spawning);
        spawn = between(spawning, spawned);
        follow = between(spawned, followed);
        run = between(spawned, exited);
        drain = between(exited, drained);
        record = between(drained, now);
        commit();
    }

    /** A phase's length, or 0 for a phase the exec never reached (it failed to start, say). */
    private static long between(long from, long to) {
        return from == 0 || to == 0 ? 0 : Math.max(0, to - from);
    }
}
