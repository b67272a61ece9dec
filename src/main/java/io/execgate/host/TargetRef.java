package io.execgate.host;

import java.util.Objects;

/** Names one target: its kind and its id within the kind (the host's id is its host name). */
public record TargetRef(TargetKind kind, String id) {

    public TargetRef {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
    }

    @Override
    public String toString() {
        return kind.value() + "/" + id;
    }
}
