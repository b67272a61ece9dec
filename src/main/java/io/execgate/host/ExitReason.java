package io.execgate.host;

import com.fasterxml.jackson.annotation.JsonValue;

/** Why an exec ended. */
public enum ExitReason {
    /** The process exited by itself. */
    EXITED("exited"),
    /** A signal ended the process. */
    KILLED("killed"),
    /** The exec ran longer than its {@code timeoutSeconds} and was terminated. */
    TIMEOUT("timeout"),
    /** The process never started. */
    START_FAILED("start-failed"),
    /** The service lost track of the process; its real fate is unknown. */
    LOST("lost");

    private final String value;

    ExitReason(String value) {
        this.value = value;
    }

    @JsonValue
    public String value() {
        return value;
    }
}
