/**
 * Upstream IO, hcsshim's {@code UpstreamIO} on Linux: an exec's streams tied to FIFOs the caller owns (reopened
 * with backoff when their reader goes away), to a {@code binary://} logging driver, or to FIFOs execgate makes
 * and lists ({@code listen}). The exec layer sees an {@link io.execgate.upstream.UpstreamConnection}.
 */
@NullMarked
package io.execgate.upstream;

import org.jspecify.annotations.NullMarked;
