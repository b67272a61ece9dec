package io.execgate.exec;

import org.jspecify.annotations.Nullable;

/**
 * Who asked for an exec: the authenticated principal's name and where the request came from. Recorded with the
 * exec for the audit log and the per-principal limit.
 *
 * @param principal     the principal's name ({@code execgate} for execs the service starts by itself)
 * @param remoteAddress the client's address, when the exec came from a request
 * @param hostAccess    whether the caller may act on the service's host (the admin role): upstream IO opens
 *                      host FIFOs and starts host programs, so it needs this whatever the exec's target
 */
public record Caller(String principal, @Nullable String remoteAddress, boolean hostAccess) {

    /** The service itself, for execs that come from no request. */
    public static final Caller SERVICE = new Caller("execgate", null, true);
}
