package io.execgate.host.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import io.execgate.host.local.PidFd;
import io.execgate.host.local.ProcStat;
import io.execgate.host.oci.RuntimeCommand.CommandException;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What an exec needs to know of its container before the runtime runs it: that the container runs, its init's pid
 * and its {@code config.json}'s {@code process}. Asking the runtime ({@code runc state}) is a program run of 6 to 8
 * ms, an eighth of a whole exec; so what it said is kept, and trusted while a pidfd on the container's init shows
 * the init alive. A container cannot change its bundle or init while it runs: once the init exits, the next exec asks
 * the runtime again (and a new container under the same id has a new init). A paused container is refused by the
 * runtime itself ({@code cannot exec in a paused container}), as the state's answer would have refused it.
 *
 * <p>At most {@code limit} containers are kept, the least recently used going first; each holds a pidfd (three
 * descriptors with its wake-up pipe). A limit of 0 asks the runtime for every exec.
 */
final class RunningContainers implements AutoCloseable {

    private static final int MAX_CONFIG = 16 * 1024 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A running container as its runtime described it, and its init, whose exit ends what is known. */
    record Known(OciContainer container, JsonNode process, @Nullable PidFd init) {

        boolean stillRunning() {
            return init != null && !init.exited();
        }

        void forget() {
            if (init != null) {
                init.close();
            }
        }
    }

    private record Key(Path root, String id) {
    }

    private final int limit;
    private final Map<Key, Known> known = new LinkedHashMap<>(16, 0.75f, true); // guarded by this; oldest use first
    private boolean closed; // guarded by this

    RunningContainers(int limit) {
        this.limit = limit;
    }

    /**
     * The container {@code id} under {@code root}, known to run; from memory while its init lives, else from the
     * runtime.
     *
     * @throws StartFailure {@code TARGET_GONE} when it does not exist or does not run; {@code BACKEND_ERROR} when
     *                      the runtime cannot say, or its {@code config.json} cannot be read
     */
    Known running(OciRuntime runtime, Path root, String id) throws StartFailure {
        Key key = new Key(root, id);
        synchronized (this) {
            Known kept = known.get(key);
            if (kept != null) {
                if (kept.stillRunning()) {
                    return kept;
                }
                known.remove(key);
                kept.forget();
            }
        }
        // Asked outside the lock: a runtime call takes milliseconds, and execs in other containers need not wait.
        long asked = limit == 0 ? 0 : uptimeTicks();
        OciContainer container = ask(runtime, root, id);
        PidFd init = limit == 0 ? null : initOf(container, asked);
        JsonNode process;
        try {
            process = containerProcess(container);
        } catch (StartFailure e) {
            if (init != null) {
                init.close();
            }
            throw e;
        }
        Known found = new Known(container, process, init);
        if (init != null) {
            remember(key, found);
        }
        return found;
    }

    /**
     * A pidfd on the container's init, or null when it cannot be shown to be the process the runtime named: between
     * the runtime's answer and the open, the init could have exited and its pid gone to another process. A process
     * that started before the runtime was asked, and is alive now, was alive all along: it is the init. (An init
     * younger than that, a container started a moment ago, is simply not remembered this time.)
     */
    private static @Nullable PidFd initOf(OciContainer container, long asked) {
        PidFd init;
        try {
            init = PidFd.open(container.pid());
        } catch (IOException e) {
            return null;
        }
        if (init == null) {
            return null;
        }
        String[] stat = ProcStat.fields(ProcStat.of(container.pid()));
        long started;
        try {
            started = stat == null ? Long.MAX_VALUE : Long.parseLong(stat[ProcStat.START_TIME]);
        } catch (NumberFormatException e) {
            started = Long.MAX_VALUE;
        }
        // both in clock ticks since boot, /proc/uptime rounded to hundredths: two ticks of margin
        if (asked == 0 || started + 2 > asked || init.exited()) {
            init.close();
            return null;
        }
        return init;
    }

    /** {@code /proc/uptime} in clock ticks (hundredths of a second), or 0 when it cannot be read. */
    private static long uptimeTicks() {
        try {
            String uptime = Files.readString(Path.of("/proc/uptime"));
            return Math.round(Double.parseDouble(uptime.substring(0, uptime.indexOf(' '))) * 100);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private synchronized void remember(Key key, Known found) {
        if (closed) {
            found.forget();
            return;
        }
        Known replaced = known.put(key, found);
        if (replaced != null && replaced != found) {
            replaced.forget(); // two first execs at once: the later answer stays
        }
        // containers that have stopped go now (a first exec is rare enough to look at them all), then, over the
        // limit, the least recently used
        for (Iterator<Known> it = known.values().iterator(); it.hasNext(); ) {
            Known entry = it.next();
            if (!entry.stillRunning()) {
                it.remove();
                entry.forget();
            }
        }
        for (Iterator<Known> it = known.values().iterator(); it.hasNext() && known.size() > limit; ) {
            Known entry = it.next();
            it.remove();
            entry.forget();
        }
    }

    /**
     * Whether the container's init, as remembered, has exited: its pidfd says so at once, even while the init is an
     * unreaped zombie that the runtime's {@code state} still reports running. False when it is not remembered.
     */
    synchronized boolean initExited(Path root, String id) {
        Known kept = known.get(new Key(root, id));
        return kept != null && kept.init() != null && kept.init().exited();
    }

    /** How many containers are known now (for tests). */
    synchronized int size() {
        return known.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
        known.values().forEach(Known::forget);
        known.clear();
    }

    private static OciContainer ask(OciRuntime runtime, Path root, String id) throws StartFailure {
        Optional<OciContainer> found;
        try {
            found = runtime.state(root, id);
        } catch (CommandException e) {
            throw new StartFailure(e.timedOut() ? Kind.BACKEND_UNAVAILABLE : Kind.BACKEND_ERROR, e.getMessage(), e);
        }
        OciContainer container = found.orElseThrow(() -> new StartFailure(Kind.TARGET_GONE,
                "container " + id + " does not exist (any more)"));
        if (!container.running()) {
            throw new StartFailure(Kind.TARGET_GONE, "container " + id + " is " + container.status() + ", not running");
        }
        return container;
    }

    /**
     * The {@code process} of the container's {@code config.json}. Without it the exec would run with less than
     * the container's confinement (root, no {@code noNewPrivileges}), so it does not run at all.
     */
    private static JsonNode containerProcess(OciContainer container) throws StartFailure {
        if (container.bundle() == null) {
            throw new StartFailure(Kind.BACKEND_ERROR, "the runtime names no bundle for container " + container.id()
                    + ", so its process settings are unknown");
        }
        Path config = container.bundle().resolve("config.json");
        try {
            if (Files.size(config) > MAX_CONFIG) {
                throw new IOException("larger than " + MAX_CONFIG + " bytes");
            }
            JsonNode process = JSON.readTree(Files.readAllBytes(config)).path("process");
            if (!process.isObject()) {
                throw new IOException("it has no process object");
            }
            return process;
        } catch (IOException | JacksonException e) {
            throw new StartFailure(Kind.BACKEND_ERROR, "cannot read the container's " + config + " (" + e.getMessage()
                    + "); execgate needs it to run the exec with the container's user and confinement", e);
        }
    }
}
