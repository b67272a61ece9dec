package io.execgate.api;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

/**
 * Told of every boot and power-off of a utility VM asked through the API, with how it was answered, so that they are
 * audited as execs are: powering a VM off ends every exec in it. The security layer's audit log is the one.
 */
@FunctionalInterface
public interface UvmActionObserver {

    /**
     * {@code action} ({@code uvm.create} or {@code uvm.delete}) on VM {@code uvmId} was answered with {@code status},
     * on the request's own thread; {@code detail} says why when it was refused.
     */
    void uvmAction(HttpServletRequest request, String action, @Nullable String uvmId, int status, @Nullable String detail);
}
