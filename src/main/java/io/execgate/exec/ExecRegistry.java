package io.execgate.exec;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exec records, oldest first, kept in memory and written through to an {@link ExecStore}. Bounded three
 * ways: ended records go once they are older than the retention; when the table is full the record that ended
 * first makes room for a new one; and when the output ended records retain passes its limit, the records that
 * ended first go until it fits (never the one that just ended, so a caller can still read it once). "First" is by
 * the end, not the creation: a long build that just ended is not the first to go. A record that goes from memory
 * goes from the store too, so a restart brings back exactly what was there.
 *
 * <p>The store is written under this registry's lock: each write takes the exec's state at that moment, so
 * writes land in the order the state changed and the store never goes back to an older state. A write or delete
 * the store refuses (a full disk) is made again by each retention sweep until it succeeds.
 */
final class ExecRegistry {

    private static final Logger log = LoggerFactory.getLogger(ExecRegistry.class);

    private final int maxRecords;
    private final Duration retention;
    private final long retainedOutputLimit;
    private final ExecStore store;
    private final Map<String, Exec> records = new LinkedHashMap<>();
    /** The output each ended record retains, in the order they ended (the eviction order). */
    private final LinkedHashMap<String, Long> endedOutput = new LinkedHashMap<>();
    private long endedOutputTotal;
    /** Records whose last write to the store failed: the store shows an older state until the sweep writes them. */
    private final Set<String> unsaved = new LinkedHashSet<>();
    /** Records gone from memory whose delete from the store failed: the sweep tries again, or a restart brings them back. */
    private final Set<String> undeleted = new LinkedHashSet<>();

    ExecRegistry(int maxRecords, Duration retention, long retainedOutputLimit) {
        this(maxRecords, retention, retainedOutputLimit, ExecStore.NONE);
    }

    ExecRegistry(int maxRecords, Duration retention, long retainedOutputLimit, ExecStore store) {
        this.maxRecords = maxRecords;
        this.retention = retention;
        this.retainedOutputLimit = retainedOutputLimit;
        this.store = store;
    }

    /**
     * Takes in the records an earlier run of the service left. Those that had not ended are recorded as lost:
     * the service that followed their processes is gone, and with it their exit status. Records past the
     * retention, and those that ended first beyond {@code max-records}, are deleted. A write or delete the store
     * refuses now is left to the sweep, as while running: a full disk does not keep the service from starting.
     *
     * @return how many records were marked lost
     */
    synchronized int restore(ExecRuntime runtime) {
        Instant now = runtime.clock().instant();
        Instant cutoff = now.minus(retention);
        List<ExecRecord> kept = new ArrayList<>();
        Set<String> marked = new HashSet<>();
        for (ExecRecord record : store.loadAll()) {
            if (!record.ended()) {
                record = record.lost(now);
                marked.add(record.id());
            }
            if (record.endedAt() != null && record.endedAt().isBefore(cutoff)) {
                deleteFromStore(record.id());
            } else {
                kept.add(record);
            }
        }
        List<ExecRecord> byEnd = kept.stream().sorted(Comparator.comparing(ExecRegistry::endOf)).toList();
        int excess = Math.max(0, byEnd.size() - maxRecords);
        byEnd.subList(0, excess).forEach(record -> deleteFromStore(record.id()));
        List<ExecRecord> staying = byEnd.subList(excess, byEnd.size());
        Set<String> stayingIds = new HashSet<>(staying.stream().map(ExecRecord::id).toList());
        for (ExecRecord record : kept) { // in the store's order, which is the order of creation
            if (stayingIds.contains(record.id())) {
                records.put(record.id(), Exec.restored(record, runtime));
            }
        }
        staying.forEach(record -> endedOutput.put(record.id(), 0L)); // in the order they ended; output went with the old service
        for (String id : marked) {
            Exec exec = records.get(id);
            if (exec != null) {
                saveQuietly(exec);
            }
        }
        return marked.size();
    }

    private static Instant endOf(ExecRecord record) {
        return record.endedAt() != null ? record.endedAt() : record.createdAt();
    }

    /** Counts an ended exec's output against the limit, dropping the oldest ended records beyond it. */
    synchronized void ended(Exec exec) {
        if (records.get(exec.id()) != exec) {
            return; // deleted before it ended
        }
        saveQuietly(exec);
        long bytes = exec.retainedBytes();
        endedOutput.put(exec.id(), bytes);
        endedOutputTotal += bytes;
        while (endedOutputTotal > retainedOutputLimit && endedOutput.size() > 1) {
            String first = endedOutput.firstEntry().getKey(); // not this one: it ended last
            records.remove(first);
            forget(first);
        }
    }

    /** Records that an exec's process started (its pid and start time). */
    synchronized void started(Exec exec) {
        if (records.get(exec.id()) == exec) {
            saveQuietly(exec);
        }
    }

    /**
     * Adds a record, evicting the oldest ended one when full. The record is in the store when this returns; when
     * the store cannot take it the exec is refused (503), since an exec nobody could account for must not run.
     */
    synchronized void add(Exec exec) {
        if (records.size() >= maxRecords && !evictOldestEnded()) {
            throw new ApiException(ErrorCode.TOO_MANY_EXECS,
                    "all " + maxRecords + " exec records belong to running execs (execgate.exec.max-records)")
                    .withHeader("Retry-After", "1");
        }
        try {
            store.save(exec.record());
        } catch (RuntimeException e) {
            log.error("exec {}: its record could not be written; the exec is refused", exec.id(), e);
            throw new ApiException(ErrorCode.BACKEND_UNAVAILABLE, "the exec records cannot be written: " + e.getMessage());
        }
        records.put(exec.id(), exec);
    }

    synchronized Optional<Exec> find(String id) {
        return Optional.ofNullable(records.get(id));
    }

    synchronized Optional<Exec> remove(String id) {
        Exec removed = records.remove(id);
        if (removed != null) {
            forget(id);
        }
        return Optional.ofNullable(removed);
    }

    /** Matching records, newest first, at most {@code limit}. */
    synchronized List<Exec> list(Predicate<Exec> filter, int limit) {
        List<Exec> newestFirst = new ArrayList<>(records.values()).reversed();
        return newestFirst.stream().filter(filter).limit(limit).toList();
    }

    synchronized List<Exec> all() {
        return List.copyOf(records.values());
    }

    synchronized int size() {
        return records.size();
    }

    /** Drops ended records whose end lies more than the retention before {@code now}. */
    synchronized int sweep(Instant now) {
        retry(unsaved, "updated in", id -> Optional.ofNullable(records.get(id)).ifPresent(exec -> store.save(exec.record())));
        retry(undeleted, "deleted from", store::delete);
        Instant cutoff = now.minus(retention);
        int removed = 0;
        for (Iterator<Exec> it = records.values().iterator(); it.hasNext(); ) {
            Exec exec = it.next();
            Instant ended = exec.endedAt();
            if (ended != null && ended.isBefore(cutoff)) {
                it.remove();
                forget(exec.id());
                removed++;
            }
        }
        return removed;
    }

    private boolean evictOldestEnded() {
        if (endedOutput.isEmpty()) {
            return false;
        }
        String first = endedOutput.firstEntry().getKey();
        records.remove(first);
        forget(first);
        return true;
    }

    /** Output that ended records hold now. */
    synchronized long endedOutputBytes() {
        return endedOutputTotal;
    }

    /** A record left memory: it leaves the store too. */
    private void forget(String id) {
        Long bytes = endedOutput.remove(id);
        if (bytes != null) {
            endedOutputTotal -= bytes;
        }
        unsaved.remove(id);
        deleteFromStore(id);
    }

    private void deleteFromStore(String id) {
        try {
            store.delete(id);
        } catch (RuntimeException e) {
            log.error("exec {}: its record could not be deleted from the store; the sweep tries again", id, e);
            undeleted.add(id);
            if (undeleted.size() > maxRecords) {
                // Bounded like the records themselves: a store that deletes nothing for that long loses the oldest
                // of these retries, and a restart shows those records again until their retention passes.
                undeleted.remove(undeleted.iterator().next());
            }
        }
    }

    /**
     * Makes again, oldest first, the store writes or deletes that failed, until the store fails again: the rest
     * waits for the next sweep.
     */
    private void retry(Set<String> ids, String what, Consumer<String> call) {
        for (Iterator<String> it = ids.iterator(); it.hasNext(); ) {
            String id = it.next();
            try {
                call.accept(id);
            } catch (RuntimeException e) {
                log.warn("exec {}: its record could still not be {} the store: {}", id, what, e.getMessage());
                return;
            }
            it.remove();
        }
    }

    /**
     * Writes an exec's state after it changed. A failure is logged, not thrown: the exec has run, and its record
     * in memory is right. The store shows its earlier state (which a restart would report as lost) until the
     * sweep writes it again.
     */
    private void saveQuietly(Exec exec) {
        try {
            store.save(exec.record());
            unsaved.remove(exec.id());
        } catch (RuntimeException e) {
            log.error("exec {}: its record could not be updated in the store; the sweep tries again", exec.id(), e);
            unsaved.add(exec.id()); // bounded: only records in memory, and forget() takes it out with its record
        }
    }

}
