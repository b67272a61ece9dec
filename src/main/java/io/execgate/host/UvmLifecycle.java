package io.execgate.host;

import java.util.Optional;

import org.jspecify.annotations.Nullable;

/** A backend that creates and removes utility VMs itself (QEMU), beside listing and running commands in them. */
public interface UvmLifecycle {

    /** Why a lifecycle request was refused. */
    final class Refusal extends RuntimeException {

        /** What kind of refusal, for the status the API answers with. */
        public enum Kind {
            /** The request itself is wrong (a bad id or size). */
            INVALID,
            /** It conflicts with what exists (the id is taken). */
            CONFLICT,
            /** A configured limit is reached. */
            LIMIT,
            /** The backend cannot create VMs here (no QEMU, no image). */
            UNAVAILABLE
        }

        private final Kind kind;
        private final @Nullable String field;

        public Refusal(Kind kind, @Nullable String field, String message) {
            super(message);
            this.kind = kind;
            this.field = field;
        }

        public Kind kind() {
            return kind;
        }

        /** The request field at fault, for {@link Kind#INVALID}. */
        public @Nullable String field() {
            return field;
        }
    }

    /** Whether the backend can create VMs here, and why not. */
    BackendStatus status();

    /**
     * Creates a VM and starts booting it; returns at once with it in state {@code booting}.
     *
     * @param id        the VM's id, or null for a generated one
     * @param memoryMiB its memory, or null for the configured default
     * @param cpus      its virtual CPUs, or null for the configured default
     */
    TargetInfo create(@Nullable String id, @Nullable Integer memoryMiB, @Nullable Integer cpus);

    /** Powers a VM off (killing it after the grace period) and forgets it; false when there is no such VM. */
    boolean delete(String id);

    /** The newest bytes of a VM's serial console, or empty when there is no such VM. */
    Optional<byte[]> console(String id);
}
