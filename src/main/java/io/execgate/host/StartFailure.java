package io.execgate.host;

import org.jspecify.annotations.Nullable;

/** A process could not be started; {@link #kind()} says why in a way the API can act on. */
public class StartFailure extends Exception {

    /** Why a start failed. */
    public enum Kind {
        /** The executable does not exist or is not in {@code PATH}; shells report 127. */
        EXECUTABLE_NOT_FOUND(127),
        /** The executable exists but cannot be run (permission, format); shells report 126. */
        NOT_EXECUTABLE(126),
        /** The working directory does not exist or is not usable. */
        BAD_WORKING_DIR(null),
        /** The user or group does not exist or cannot be switched to. */
        BAD_USER(null),
        /** The backend cannot do what the spec asks (e.g. a terminal). */
        UNSUPPORTED(null),
        /** The target is gone or not running. */
        TARGET_GONE(null),
        /** The backend does not know the target (it was never there, or went before the exec). */
        TARGET_NOT_FOUND(null),
        /** The backend refused the service (it lacks the rights to run processes there). */
        ACCESS_DENIED(null),
        /** The backend did not answer in time, or is down. */
        BACKEND_UNAVAILABLE(null),
        /** The backend itself failed. */
        BACKEND_ERROR(null);

        private final @Nullable Integer shellExitCode;

        Kind(@Nullable Integer shellExitCode) {
            this.shellExitCode = shellExitCode;
        }

        /** The code a shell would exit with for this failure, or null when shells have none. */
        public @Nullable Integer shellExitCode() {
            return shellExitCode;
        }
    }

    private final Kind kind;

    public StartFailure(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public StartFailure(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
