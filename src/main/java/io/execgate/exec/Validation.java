package io.execgate.exec;

/** Limits and patterns shared by the exec requests. */
final class Validation {

    /**
     * Text a process can receive: no NUL (C strings end there) and no lone surrogate (JSON's {@code \\ud800}
     * has no UTF-8 form).
     */
    static final String TEXT = "[^\\x00\\p{Cs}]*";
    static final String TEXT_MESSAGE = "must not contain NUL characters or unpaired surrogates";
    /** {@code KEY=VALUE}: a non-empty key without {@code =}, and text as above. */
    static final String ENV_ENTRY = "[^=\\x00\\p{Cs}]+=[^\\x00\\p{Cs}]*";
    static final String ENV_MESSAGE = "must be KEY=VALUE with a non-empty KEY, without NUL characters or unpaired "
            + "surrogates";
    static final String NON_EMPTY_TEXT = "[^\\x00\\p{Cs}]+";
    static final String NON_EMPTY_TEXT_MESSAGE = "must not be empty, or contain NUL characters or unpaired surrogates";
    /** Thirty days: longer is surely a mistake, and keeps the timer arithmetic far from overflow. */
    static final long MAX_TIMEOUT_SECONDS = 30L * 24 * 3600;
    static final int DEFAULT_RUN_OUTPUT_BYTES = 1024 * 1024;
    static final long MAX_RUN_OUTPUT_BYTES = 16L * 1024 * 1024;

    private Validation() {
    }
}
