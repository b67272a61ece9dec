package io.execgate.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.socket.CloseStatus;

/**
 * The open sessions: bounded by {@code max-sessions}, and by {@code max-sessions-per-principal} for each principal,
 * pinged every {@code ping-interval} on a timer thread of their own (a ping can block as long as a send), and
 * closed when idle longer than {@code idle-timeout}.
 */
final class StreamSessions implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StreamSessions.class);

    /**
     * How long a handshake's slot waits for its session once the handshake has succeeded. Tomcat opens the session
     * right after the 101, so this is reached only when the upgrade broke off after that (the client vanished).
     */
    static final Duration RESERVATION_TTL = Duration.ofSeconds(30);

    private final StreamProperties properties;
    /** Each open session and the principal it counts against. */
    private final Map<StreamSession, String> open = new ConcurrentHashMap<>();
    /** Slots handshakes hold for the sessions they are about to open. */
    private final Set<Reservation> reserved = new HashSet<>(); // guarded by this
    /**
     * Sessions and reserved slots per principal; a principal with none has no entry, so the map is as large as the
     * open and reserved sets at most.
     */
    private final Map<String, Integer> held = new HashMap<>(); // guarded by this
    private final ScheduledExecutorService timer;
    private final Duration reservationTtl;

    StreamSessions(StreamProperties properties) {
        this(properties, RESERVATION_TTL);
    }

    StreamSessions(StreamProperties properties, Duration reservationTtl) {
        this.properties = properties;
        this.reservationTtl = reservationTtl;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("execgate-stream-ping").factory());
        executor.setRemoveOnCancelPolicy(true);
        this.timer = executor;
        long every = properties.pingInterval().toMillis();
        timer.scheduleWithFixedDelay(this::keepAlive, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Holds a slot for the session {@code principal}'s handshake is about to open, so that the session limits are
     * decided before the upgrade (a refusal is a 429 problem, and a one-step exec starts only once its session has
     * room). The slot counts as an open session until {@link #add} takes it or {@link #release} gives it back; one
     * no session has taken within {@link #RESERVATION_TTL} of its handshake's success ({@link #upgraded}) is given
     * back at the timer's next round.
     *
     * @throws ApiException {@code TOO_MANY_SESSIONS} saying which limit, when either is reached
     */
    synchronized Reservation reserve(String principal) {
        if (open.size() + reserved.size() >= properties.maxSessions()) {
            throw noRoom("all sessions are taken (execgate.stream.max-sessions)");
        }
        if (held.getOrDefault(principal, 0) >= properties.maxSessionsPerPrincipal()) {
            throw noRoom(principal + " holds " + properties.maxSessionsPerPrincipal()
                    + " sessions, the most one principal may (execgate.stream.max-sessions-per-principal)");
        }
        Reservation reservation = new Reservation(principal);
        reserved.add(reservation);
        held.merge(principal, 1, Integer::sum);
        return reservation;
    }

    private static ApiException noRoom(String reason) {
        return new ApiException(ErrorCode.TOO_MANY_SESSIONS, reason).withHeader("Retry-After", "1");
    }

    /**
     * Counts the session in its handshake's slot. False (and nothing counted) only when the slot had expired and
     * there is no room left for it.
     */
    synchronized boolean add(StreamSession session, Reservation reservation) {
        if (!reserved.remove(reservation)) {
            // Its slot expired: the session needs one of its own now, which counts against its principal.
            try {
                reserved.remove(reserve(reservation.principal));
            } catch (ApiException full) {
                return false;
            }
        }
        open.put(session, reservation.principal);
        return true;
    }

    /**
     * The handshake succeeded (its 101 is going out): from now the session has {@link #RESERVATION_TTL} to open.
     * Until then the slot does not expire, however long the one-step command takes to start.
     */
    synchronized void upgraded(Reservation reservation) {
        reservation.expiresAt = System.nanoTime() + reservationTtl.toNanos();
        reservation.upgraded = true;
    }

    /** Gives back a slot its handshake did not use; nothing happens when it was used or given back already. */
    synchronized void release(Reservation reservation) {
        if (reserved.remove(reservation)) {
            unhold(reservation.principal);
        }
    }

    synchronized void remove(StreamSession session) {
        String principal = open.remove(session);
        if (principal != null) {
            unhold(principal);
        }
    }

    private void unhold(String principal) {
        held.computeIfPresent(principal, (p, n) -> n > 1 ? n - 1 : null);
    }

    /** A session slot a handshake holds; equal only to itself. */
    static final class Reservation {
        private final String principal;
        private boolean upgraded; // guarded by the StreamSessions
        private long expiresAt; // guarded by the StreamSessions; meaningful once upgraded

        private Reservation(String principal) {
            this.principal = principal;
        }
    }

    /** Gives back the slots no session took in time (the timer calls it at every ping round). */
    synchronized void releaseExpired() {
        long now = System.nanoTime();
        reserved.removeIf(reservation -> {
            boolean expired = reservation.upgraded && now - reservation.expiresAt > 0;
            if (expired) {
                unhold(reservation.principal);
            }
            return expired;
        });
    }

    private void keepAlive() {
        releaseExpired();
        for (StreamSession session : open.keySet()) {
            try {
                if (properties.idleTimeout().isPositive()
                        && session.idleFor().compareTo(properties.idleTimeout()) > 0) {
                    session.closeLater(CloseStatus.GOING_AWAY.withReason("idle for longer than "
                            + properties.idleTimeout()));
                } else if (properties.pongTimeout().isPositive() && session.unanswered(properties.pongTimeout())) {
                    log.info("session {}: no answer to pings for {}; closing it", session, properties.pongTimeout());
                    session.closeLater(CloseStatus.GOING_AWAY.withReason("no answer to pings for "
                            + properties.pongTimeout()));
                } else {
                    session.pingLater();
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                // A thread that could not start: this round skips the session; a throw would end the timer for good.
                log.warn("keeping session {} alive failed: {}", session, e.toString());
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
