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
        eachProcess((pid, fields) -> {
            if (!"Z".equals(fields[0]) && Long.parseLong(fields[3]) == sid) {
                members.add(pid);
            }
        });
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
        eachProcess((pid, fields) -> {
            parents.put(pid, Long.parseLong(fields[1]));
            if ("Z".equals(fields[0])) {
                zombies.add(pid);
            }
        });
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

    /**
     * Calls {@code each} with every process's pid and the fields of its {@code /proc/<pid>/stat} after the command
     * name (0 state, 1 ppid, 2 pgrp, 3 session, ...); a process that ends while the list is read is left out.
     */
    private static void eachProcess(java.util.function.BiConsumer<Long, String[]> each) throws IOException {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : (Iterable<Path>) processes::iterator) {
                String name = process.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String stat;
                try {
                    stat = Files.readString(process.resolve("stat"));
                } catch (IOException gone) {
                    continue; // exited and reaped while the list was read
                }
                // the command name may hold spaces and parentheses: count from the last ')'
                each.accept(Long.parseLong(name), stat.substring(stat.lastIndexOf(')') + 2).split(" "));
            }
        }
    }

    /** The number of descriptors this JVM has open. */
    public static int openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }
}
