package io.execgate.host;

import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * A backend check's answer, kept for a while. The health endpoint is public and probes ask every few seconds;
 * a check that starts processes ({@code runc --version}) must not run once per request. Callers that come while
 * a check runs wait for its answer rather than start their own.
 */
public final class RecentCheck {

    private final Duration validity;
    private final Supplier<BackendStatus> check;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    private @Nullable BackendStatus last;
    private long at;

    public RecentCheck(Duration validity, Supplier<BackendStatus> check) {
        this(validity, check, System::nanoTime);
    }

    RecentCheck(Duration validity, Supplier<BackendStatus> check, LongSupplier nanoTime) {
        this.validity = validity;
        this.check = check;
        this.nanoTime = nanoTime;
    }

    /** The last answer while it is fresh, else a new one. */
    public BackendStatus get() {
        lock.lock();
        try {
            long now = nanoTime.getAsLong();
            if (last == null || now - at >= validity.toNanos()) {
                last = check.get();
                at = now;
            }
            return last;
        } finally {
            lock.unlock();
        }
    }
}
