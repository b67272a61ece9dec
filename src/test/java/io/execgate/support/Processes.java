package io.execgate.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

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

    /**
     * The live (not zombie) processes of session {@code sid}. Meant for a session whose leader the test still
     * holds, or has just seen go: a session id is not reused while any process of the session lives.
     */
    public static List<Long> sessionMembers(long sid) throws IOException {
        List<Long> members = new ArrayList<>();
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : (Iterable<Path>) processes::iterator) {
                String name = process.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(process.resolve("stat"));
                    // after the command name: state ppid pgrp session ...
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (!"Z".equals(fields[0]) && Long.parseLong(fields[3]) == sid) {
                        members.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // exited while the list was read
                }
            }
        }
        return members;
    }

    /** Waits until session {@code sid} has no live process; what is still left after the timeout. */
    public static List<Long> awaitSessionGone(long sid, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        List<Long> members = sessionMembers(sid);
        while (!members.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            members = sessionMembers(sid);
        }
        return members;
    }

    /** SIGKILLs what is left of session {@code sid}: a test's clean-up after a failure. */
    public static void killSession(long sid) throws IOException {
        for (long pid : sessionMembers(sid)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** The zombies among the descendants of {@code ancestor}: exited processes that nobody reaps (yet). */
    public static List<Long> zombiesUnder(long ancestor) throws IOException {
        java.util.Map<Long, Long> parents = new java.util.HashMap<>();
        List<Long> zombies = new ArrayList<>();
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : (Iterable<Path>) processes::iterator) {
                String name = process.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(process.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    parents.put(Long.parseLong(name), Long.parseLong(fields[1]));
                    if ("Z".equals(fields[0])) {
                        zombies.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // exited and reaped while the list was read
                }
            }
        }
        return zombies.stream().filter(pid -> {
            Long up = parents.get(pid);
            for (int depth = 0; up != null && up > 0 && depth < 1_000; depth++, up = parents.get(up)) {
                if (up == ancestor) {
                    return true;
                }
            }
            return false;
        }).toList();
    }

    /** The number of descriptors this JVM has open. */
    public static int openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }
}
