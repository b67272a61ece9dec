/**
 * The exec life: hcsshim's {@code Cmd} semantics made observable over HTTP. An {@link io.execgate.exec.Exec}
 * owns one {@link io.execgate.host.HostProcess}, relays its output into bounded buffers, records how it
 * ended before anything reports the end, and is kept in the {@link io.execgate.exec.ExecRegistry} for its
 * retention period.
 */
@NullMarked
package io.execgate.exec;

import org.jspecify.annotations.NullMarked;
