package io.execgate.exec;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;

/**
 * The exec records, oldest first. Bounded three ways: ended records go once they are older than the
 * retention; when the table is full the oldest ended record makes room for a new one; and when the output
 * ended records retain passes its limit, the oldest ended records go until it fits (never the one that just
 * ended, so a caller can still read it once).
 */
final class ExecRegistry {

    private final int maxRecords;
    private final Duration retention;
    private final long retainedOutputLimit;
    private final Map<String, Exec> records = new LinkedHashMap<>();
    private final Map<String, Long> endedOutput = new HashMap<>();
    private long endedOutputTotal;

    ExecRegistry(int maxRecords, Duration retention, long retainedOutputLimit) {
        this.maxRecords = maxRecords;
        this.retention = retention;
        this.retainedOutputLimit = retainedOutputLimit;
    }

    /** Counts an ended exec's output against the limit, dropping the oldest ended records beyond it. */
    synchronized void ended(Exec exec) {
        if (records.get(exec.id()) != exec) {
            return; // deleted before it ended
        }
        long bytes = exec.retainedBytes();
        endedOutput.put(exec.id(), bytes);
        endedOutputTotal += bytes;
        for (Iterator<Exec> it = records.values().iterator(); it.hasNext() && endedOutputTotal > retainedOutputLimit; ) {
            Exec old = it.next();
            if (old != exec && old.endedAt() != null) {
                it.remove();
                forget(old.id());
            }
        }
    }

    /** Adds a record, evicting the oldest ended one when full. */
    synchronized void add(Exec exec) {
        if (records.size() >= maxRecords && !evictOldestEnded()) {
            throw new ApiException(ErrorCode.TOO_MANY_EXECS,
                    "all " + maxRecords + " exec records belong to running execs (execgate.exec.max-records)")
                    .withHeader("Retry-After", "1");
        }
        records.put(exec.id(), exec);
    }

    synchronized Optional<Exec> find(String id) {
        return Optional.ofNullable(records.get(id));
    }

    synchronized Optional<Exec> remove(String id) {
        forget(id);
        return Optional.ofNullable(records.remove(id));
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
        for (Iterator<Exec> it = records.values().iterator(); it.hasNext(); ) {
            Exec exec = it.next();
            if (exec.endedAt() != null) {
                it.remove();
                forget(exec.id());
                return true;
            }
        }
        return false;
    }

    /** Output that ended records hold now. */
    synchronized long endedOutputBytes() {
        return endedOutputTotal;
    }

    private void forget(String id) {
        Long bytes = endedOutput.remove(id);
        if (bytes != null) {
            endedOutputTotal -= bytes;
        }
    }
}
