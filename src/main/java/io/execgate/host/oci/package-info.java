/**
 * Linux containers through an OCI runtime's command line ({@code runc}, {@code crun}), as containerd's runc shim
 * does it: {@code list} and {@code state} describe containers, {@code exec --process} runs a command in one.
 * The runtime runs as a local process, on a terminal of the service's when the exec has one.
 */
@NullMarked
package io.execgate.host.oci;

import org.jspecify.annotations.NullMarked;
