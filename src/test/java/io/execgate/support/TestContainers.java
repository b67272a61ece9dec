package io.execgate.support;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Real containers for tests: a bundle whose rootfs is busybox-static and its applet links, started by runc or
 * crun under a private {@code --root}, removed by the test afterwards.
 */
public final class TestContainers {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String BUSYBOX = "/bin/busybox";

    private TestContainers() {
    }

    /** Why containers cannot run here, or null when they can. */
    public static String unavailableBecause(String runtime) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "starting containers needs root";
        }
        if (which(runtime) == null) {
            return runtime + " is not installed (apt-get install " + runtime + ")";
        }
        if (!Files.isExecutable(Path.of(BUSYBOX)) || !isStatic(Path.of(BUSYBOX))) {
            return "a static busybox is needed for the container's rootfs (apt-get install busybox-static)";
        }
        return null;
    }

    private static boolean isStatic(Path busybox) {
        try {
            Process ldd = new ProcessBuilder("ldd", busybox.toString()).redirectErrorStream(true).start();
            String out = new String(ldd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ldd.waitFor(10, TimeUnit.SECONDS);
            return out.contains("not a dynamic executable") || out.contains("statically linked");
        } catch (IOException e) {
            return true; // no ldd: trust the package
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public static String which(String program) {
        for (String dir : List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return dir + "/" + program;
            }
        }
        return null;
    }

    /**
     * Makes a bundle in {@code dir}: busybox and its applets, {@code /etc/passwd} with root and app (1000), group
     * extra (5) with app in it, hostname {@code box}, {@code FOO=from-image}, {@code sleep} as the init.
     */
    public static Path bundle(Path dir) throws IOException {
        Path rootfs = dir.resolve("rootfs");
        for (String sub : List.of("bin", "proc", "sys", "dev", "tmp", "etc", "home/app")) {
            Files.createDirectories(rootfs.resolve(sub));
        }
        Files.copy(Path.of(BUSYBOX), rootfs.resolve("bin/busybox"));
        for (String applet : run(List.of(BUSYBOX, "--list")).lines().toList()) {
            if (!applet.isBlank() && !applet.equals("busybox")) { // linking busybox itself would replace it
                Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
            }
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\napp:x:1000:\nextra:x:5:app\n");
        run(List.of(which("runc") != null ? which("runc") : which("crun"), "spec", "--bundle", dir.toString()));
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.path("process");
        process.put("terminal", false);
        process.putArray("args").add("sleep").add("3600");
        process.withArray("env").add("FOO=from-image");
        config.put("hostname", "box");
        config.putObject("annotations").put("io.kubernetes.cri.container-name", "web");
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    /**
     * Starts a container with stdio away from pipes: {@code run -d} hands its own stdio to the container, and a
     * pipe would stay open for the container's life. crun cannot start containers on hosts with hybrid cgroups
     * (it finds controllers on the cgroup2 mount); in a private mount namespace without that mount it can.
     */
    public static void start(String runtime, Path root, Path bundle, String id) throws IOException {
        String binary = which(runtime);
        List<String> command = new ArrayList<>();
        if (runtime.equals("crun")) {
            command.addAll(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                    "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"", "sh"));
        }
        command.addAll(List.of(binary, "--root=" + root, "run", "-d", "--bundle", bundle.toString(), id));
        Process process = new ProcessBuilder(command).directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** A new directory for a test class's roots and bundles (removed by {@link #removeAll}), made in a static field. */
    public static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILLs the container's init: the container stops, as when its node kills it. */
    public static void kill(String runtime, Path root, String id) throws IOException {
        run(List.of(which(runtime), "--root=" + root, "kill", id, "KILL"));
    }

    /** Removes the container, running or not. */
    public static void delete(String runtime, Path root, String id) throws IOException {
        run(List.of(which(runtime), "--root=" + root, "delete", "-f", id));
    }

    /** Removes every container under {@code root}, then {@code dir}. */
    public static void removeAll(String runtime, Path root, Path dir) throws IOException {
        if (Files.isDirectory(root)) {
            try (Stream<Path> ids = Files.list(root)) {
                for (Path id : ids.toList()) {
                    runQuietly(List.of(which(runtime), "--root=" + root, "delete", "-f", id.getFileName().toString()));
                }
            }
        }
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    public static String run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }

    private static void runQuietly(List<String> command) {
        try {
            run(command);
        } catch (IOException e) {
            // cleaning up: what is already gone is fine
        }
    }
}
