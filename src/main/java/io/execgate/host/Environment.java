package io.execgate.host;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code KEY=VALUE} lists as processes receive them. */
public final class Environment {

    private Environment() {
    }

    /** {@code base} with {@code overrides} applied: an override replaces the entry of the same key in place. */
    public static List<String> merge(List<String> base, List<String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (String entry : base) {
            merged.put(key(entry), entry);
        }
        for (String entry : overrides) {
            merged.put(key(entry), entry);
        }
        return new ArrayList<>(merged.values());
    }

    /** The value of {@code key}, the last entry winning. */
    public static Optional<String> get(List<String> env, String key) {
        String prefix = key + "=";
        return env.reversed().stream().filter(e -> e.startsWith(prefix)).findFirst()
                .map(e -> e.substring(prefix.length()));
    }

    private static String key(String entry) {
        int eq = entry.indexOf('=');
        return eq < 0 ? entry : entry.substring(0, eq);
    }
}
