/**
 * The local host backend: runs processes on the service's own host. Processes are spawned with
 * {@code posix_spawn} through JNA rather than {@link java.lang.ProcessBuilder} so that each one gets its own
 * session (signals reach what it starts), a clean signal state, no inherited descriptors, and a real wait
 * status: the JDK reports a process killed by SIGTERM and one that exited with 143 the same way.
 */
@NullMarked
package io.execgate.host.local;

import org.jspecify.annotations.NullMarked;
