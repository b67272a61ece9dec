/**
 * The process-host SPI: what a backend offers the exec layer. A {@link io.execgate.host.TargetProvider}
 * lists the targets of one backend and opens a {@link io.execgate.host.ProcessHost} for one of them;
 * the host starts a {@link io.execgate.host.HostProcess} from a {@link io.execgate.host.ProcessSpec}.
 * Nothing here knows about HTTP; backends live in the sub-packages.
 */
@NullMarked
package io.execgate.host;

import org.jspecify.annotations.NullMarked;
