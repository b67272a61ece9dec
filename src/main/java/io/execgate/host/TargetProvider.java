package io.execgate.host;

import java.util.List;
import java.util.Optional;

/**
 * One backend's targets. Backends register a provider as a Spring bean; the exec layer looks targets up
 * through {@link Targets} and never learns which backend it talks to.
 */
public interface TargetProvider {

    /** The kind of target this backend provides. */
    TargetKind kind();

    /** The backend's name and whether it can be used here, as found at start. */
    BackendStatus status();

    /** Asks the backend whether it still works now (runc answers {@code --version}); for health checks. */
    default BackendStatus check() {
        return status();
    }

    /** Every target the backend knows of now. An unavailable backend lists none. */
    List<TargetInfo> list();

    /** One target, or empty when the backend does not know it. */
    Optional<TargetInfo> describe(String id);

    /** A process host for one target, or empty when the backend does not know it. */
    Optional<ProcessHost> open(String id);
}
