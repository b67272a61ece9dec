package io.execgate.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the test JVM can see of processes on this machine. */
public final class Processes {

    private Processes() {
    }

    /** True once the process is gone or a zombie (dead, waiting for a parent that may never reap it). */
    public static boolean awaitGone(long pid, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (isGone(pid)) {
                return true;
            }
            Thread.sleep(20);
        }
        return isGone(pid);
    }

    public static boolean isGone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    /** The number of descriptors this JVM has open. */
    public static int openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }
}
