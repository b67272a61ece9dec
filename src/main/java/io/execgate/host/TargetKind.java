package io.execgate.host;

import com.fasterxml.jackson.annotation.JsonValue;

/** The three kinds of place a command can run in. */
public enum TargetKind {
    HOST("host", "host"),
    CONTAINER("container", "containers"),
    UVM("uvm", "uvms");

    private final String value;
    private final String collection;

    TargetKind(String value, String collection) {
        this.value = value;
        this.collection = collection;
    }

    /** The name used in JSON and in {@code target=} filters: {@code host}, {@code container}, {@code uvm}. */
    @JsonValue
    public String value() {
        return value;
    }

    /** The path segment of the kind's collection under {@code /api/v1}. */
    public String collection() {
        return collection;
    }

    public static TargetKind fromValue(String value) {
        for (TargetKind kind : values()) {
            if (kind.value.equals(value)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown target kind '" + value + "' (expected host, container or uvm)");
    }
}
