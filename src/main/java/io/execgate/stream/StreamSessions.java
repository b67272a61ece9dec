package io.execgate.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.springframework.web.socket.CloseStatus;

/**
 * The open sessions: bounded by {@code max-sessions}, pinged every {@code ping-interval} on a timer thread of
 * their own (a ping can block as long as a send), and closed when idle longer than {@code idle-timeout}.
 */
final class StreamSessions implements AutoCloseable {

    private final StreamProperties properties;
    private final Set<StreamSession> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;

    StreamSessions(StreamProperties properties) {
        this.properties = properties;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("execgate-stream-ping").factory());
        executor.setRemoveOnCancelPolicy(true);
        this.timer = executor;
        long every = properties.pingInterval().toMillis();
        timer.scheduleWithFixedDelay(this::keepAlive, every, every, TimeUnit.MILLISECONDS);
    }

    /** True when there is room for one more session (checked before the upgrade, enforced after it). */
    boolean hasRoom() {
        return open.size() < properties.maxSessions();
    }

    synchronized boolean add(StreamSession session) {
        if (open.size() >= properties.maxSessions()) {
            return false;
        }
        return open.add(session);
    }

    void remove(StreamSession session) {
        open.remove(session);
    }

    private void keepAlive() {
        for (StreamSession session : open) {
            if (properties.idleTimeout().isPositive() && session.idleFor().compareTo(properties.idleTimeout()) > 0) {
                session.closeLater(CloseStatus.GOING_AWAY.withReason("idle for longer than " + properties.idleTimeout()));
            } else {
                session.ping();
            }
        }
    }

    /** Tells every client the service is going away (status, then close 1001), each on a thread of its own. */
    void goingAway(String message) {
        List<Thread> telling = new ArrayList<>();
        for (StreamSession session : open) {
            telling.add(Thread.ofVirtual().name("session-going-away").start(() -> session.goingAway(message)));
        }
        for (Thread thread : telling) {
            try {
                thread.join(properties.sendTimeout().toMillis() * 2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
