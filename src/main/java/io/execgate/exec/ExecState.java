package io.execgate.exec;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where an exec is in its life: created → running → exited | failed | unknown. */
public enum ExecState {
    /** Recorded, not started yet. */
    CREATED,
    /** The process runs (or has exited and its output is still draining). */
    RUNNING,
    /** The process has exited and its output is complete. */
    EXITED,
    /** The process never started. */
    FAILED,
    /** The service lost track of the process. */
    UNKNOWN;

    @JsonValue
    public String value() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ExecState fromValue(String value) {
        for (ExecState state : values()) {
            if (state.value().equals(value)) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown state '" + value + "'");
    }

    boolean ended() {
        return this == EXITED || this == FAILED || this == UNKNOWN;
    }
}
