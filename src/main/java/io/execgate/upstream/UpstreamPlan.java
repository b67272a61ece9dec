package io.execgate.upstream;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

import org.jspecify.annotations.Nullable;

/**
 * Where an exec's streams go, parsed from the request's {@code io}: one of three modes, never a mixture. As in
 * hcsshim, the mode follows from {@code stdout}; the other members must agree with it.
 */
public sealed interface UpstreamPlan {

    /** Whether the process's stdin comes from upstream. */
    default boolean tiesStdin() {
        return switch (this) {
            case Pipes pipes -> pipes.stdin() != null;
            case Listen listen -> listen.stdin();
            case Binary binary -> false;
        };
    }

    /** The request's word for "make the pipes and tell me where they are". */
    String LISTEN = "listen";

    /**
     * FIFOs the caller made and reads (stdout, stderr) or writes (stdin); execgate opens them as the client.
     *
     * @param retryTimeout how long to keep reopening a stdout or stderr FIFO whose reader went away; null: for ever
     */
    record Pipes(@Nullable Path stdin, @Nullable Path stdout, @Nullable Path stderr, @Nullable Duration retryTimeout)
            implements UpstreamPlan {
    }

    /**
     * A logging driver started per exec, which reads stdout and stderr from FIFOs execgate makes.
     *
     * @param query the URI's query: each key with its first value ("" for none), in the keys' sorted order
     */
    record Binary(Path executable, SortedMap<String, String> query, String uri) implements UpstreamPlan {
        public Binary {
            query = Collections.unmodifiableSortedMap(new TreeMap<>(query));
        }

        /** The driver's arguments, as hcsshim passes them: each key, followed by its value when that is not empty. */
        public List<String> arguments() {
            List<String> arguments = new ArrayList<>();
            query.forEach((key, value) -> {
                arguments.add(key);
                if (!value.isEmpty()) {
                    arguments.add(value);
                }
            });
            return List.copyOf(arguments);
        }
    }

    /** FIFOs execgate makes for the streams asked for, and lists in the exec resource for a client to open. */
    record Listen(boolean stdin, boolean stdout, boolean stderr) implements UpstreamPlan {
    }

    /** A member of {@code io} that cannot be used; the API answers 400 naming {@link #field()}. */
    final class InvalidUpstream extends IllegalArgumentException {
        private final String field;

        public InvalidUpstream(String field, String message) {
            super(message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /**
     * Parses the members of {@code io}; null when none is set.
     *
     * @param tty whether the exec has a terminal, which has no stderr
     * @throws InvalidUpstream naming the member at fault
     */
    static @Nullable UpstreamPlan parse(@Nullable String stdin, @Nullable String stdout, @Nullable String stderr,
            @Nullable Integer retryTimeoutSeconds, boolean tty) {
        return UpstreamPlanParser.parse(stdin, stdout, stderr, retryTimeoutSeconds, tty);
    }
}
