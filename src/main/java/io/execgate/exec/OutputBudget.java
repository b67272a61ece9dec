package io.execgate.exec;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How much output the buffers of running execs may hold together ({@code execgate.exec.running-output-limit}).
 * Each exec's buffers are bounded on their own (the output buffer size, a run's {@code maxOutputBytes}), but
 * {@code max-running} of them at their bound can be more than the heap: a buffer takes from this budget as it
 * grows, stops growing when the budget is spent (dropping and counting bytes as it does when full), and gives its
 * share back when its exec ends. Ended records are bounded by {@code retained-output-limit} instead.
 */
final class OutputBudget {

    /** For buffers that answer to no budget (tests, records restored without output). */
    static final OutputBudget UNLIMITED = new OutputBudget(Long.MAX_VALUE);

    private final AtomicLong available;

    OutputBudget(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("the limit must not be negative: " + limit);
        }
        this.available = new AtomicLong(limit);
    }

    /** Takes {@code bytes} if that many are left; takes nothing otherwise. */
    boolean take(long bytes) {
        long left = available.get();
        while (left >= bytes) {
            if (available.compareAndSet(left, left - bytes)) {
                return true;
            }
            left = available.get();
        }
        return false;
    }

    void give(long bytes) {
        available.addAndGet(bytes);
    }

    long available() {
        return available.get();
    }
}
