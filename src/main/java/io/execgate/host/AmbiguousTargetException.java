package io.execgate.host;

import java.util.List;

/** An id names more than one target (the same container id under two runtime roots); the caller must qualify it. */
public class AmbiguousTargetException extends RuntimeException {

    private final List<String> qualifiedIds;

    public AmbiguousTargetException(String message, List<String> qualifiedIds) {
        super(message);
        this.qualifiedIds = List.copyOf(qualifiedIds);
    }

    /** The ids that name each of the targets alone. */
    public List<String> qualifiedIds() {
        return qualifiedIds;
    }
}
