package io.execgate.exec;

/** Limits and patterns shared by the exec requests. */
final class Validation {

    /** {@code KEY=VALUE}: a non-empty key without {@code =}, no NUL anywhere. */
    static final String ENV_ENTRY = "[^=\\x00]+=[^\\x00]*";
    static final String ENV_MESSAGE = "must be KEY=VALUE with a non-empty KEY and no NUL characters";
    static final String NON_EMPTY_NO_NUL = "[^\\x00]+";
    /** Thirty days: longer is surely a mistake, and keeps the timer arithmetic far from overflow. */
    static final long MAX_TIMEOUT_SECONDS = 30L * 24 * 3600;
    static final int DEFAULT_RUN_OUTPUT_BYTES = 1024 * 1024;
    static final long MAX_RUN_OUTPUT_BYTES = 16L * 1024 * 1024;

    private Validation() {
    }
}
