/**
 * Windows containers and utility VMs through the Host Compute Service (computecore.dll) over JNA, driven as
 * hcsshim drives it: operations waited with a timeout, process exit from the exit event, hcsshim's workarounds.
 * On Linux the tests load a fake computecore built from {@code src/test/native}.
 */
@NullMarked
package io.execgate.host.hcs;

import org.jspecify.annotations.NullMarked;
