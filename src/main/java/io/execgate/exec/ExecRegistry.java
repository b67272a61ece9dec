package io.execgate.exec;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;

/**
 * The exec records, oldest first. Bounded twice: ended records go once they are older than the retention,
 * and when the table is full the oldest ended record makes room for a new one.
 */
final class ExecRegistry {

    private final int maxRecords;
    private final Duration retention;
    private final Map<String, Exec> records = new LinkedHashMap<>();

    ExecRegistry(int maxRecords, Duration retention) {
        this.maxRecords = maxRecords;
        this.retention = retention;
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
            Instant ended = it.next().endedAt();
            if (ended != null && ended.isBefore(cutoff)) {
                it.remove();
                removed++;
            }
        }
        return removed;
    }

    private boolean evictOldestEnded() {
        for (Iterator<Exec> it = records.values().iterator(); it.hasNext(); ) {
            if (it.next().endedAt() != null) {
                it.remove();
                return true;
            }
        }
        return false;
    }
}
