package io.execgate.stream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.springframework.web.socket.CloseStatus;

/**
 * The open sessions: bounded by {@code max-sessions}, and by {@code max-sessions-per-principal} for each principal,
 * pinged every {@code ping-interval} on a timer thread of their own (a ping can block as long as a send), and
 * closed when idle longer than {@code idle-timeout}.
 */
final class StreamSessions implements AutoCloseable {

    private final StreamProperties properties;
    /** Each open session and the principal it counts against. */
    private final Map<StreamSession, String> open = new ConcurrentHashMap<>();
    /** Sessions per principal; a principal with none has no entry, so the map is as large as the open set at most. */
    private final Map<String, Integer> held = new HashMap<>();
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

    /**
     * Why there is no room for one more session of {@code principal}, or null when there is (checked before the
     * upgrade, so a refusal is a 429 problem; enforced again by {@link #add}).
     */
    synchronized @Nullable String noRoomFor(String principal) {
        if (open.size() >= properties.maxSessions()) {
            return "all sessions are taken (execgate.stream.max-sessions)";
        }
        if (held.getOrDefault(principal, 0) >= properties.maxSessionsPerPrincipal()) {
            return principal + " holds " + properties.maxSessionsPerPrincipal()
                    + " sessions, the most one principal may (execgate.stream.max-sessions-per-principal)";
        }
        return null;
    }

    /** Counts the session against its principal; false (and nothing counted) when either limit is reached. */
    synchronized boolean add(StreamSession session, String principal) {
        if (noRoomFor(principal) != null || open.putIfAbsent(session, principal) != null) {
            return false;
        }
        held.merge(principal, 1, Integer::sum);
        return true;
    }

    synchronized void remove(StreamSession session) {
        String principal = open.remove(session);
        if (principal != null) {
            held.computeIfPresent(principal, (p, n) -> n > 1 ? n - 1 : null);
        }
    }

    private void keepAlive() {
        for (StreamSession session : open.keySet()) {
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
        for (StreamSession session : open.keySet()) {
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
