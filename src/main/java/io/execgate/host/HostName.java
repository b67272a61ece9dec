package io.execgate.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The name of the machine the service runs on: the id of the {@code host} target. */
public final class HostName {

    private static final String NAME = read();

    private HostName() {
    }

    public static String current() {
        return NAME;
    }

    private static String read() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException ignored) {
            // not Linux, or /proc is not mounted: fall back below
        }
        String env = System.getenv("HOSTNAME");
        if (env == null || env.isBlank()) {
            env = System.getenv("COMPUTERNAME");
        }
        return env != null && !env.isBlank() ? env : "localhost";
    }
}
