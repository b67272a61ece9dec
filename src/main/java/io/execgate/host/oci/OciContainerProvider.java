package io.execgate.host.oci;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.execgate.DataDirectory;
import io.execgate.host.AmbiguousTargetException;
import io.execgate.host.BackendStatus;
import io.execgate.host.ProcessHost;
import io.execgate.host.TargetInfo;
import io.execgate.host.RecentCheck;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import io.execgate.host.TargetRef;
import io.execgate.host.oci.RuntimeCommand.CommandException;
import io.execgate.host.local.PidFd;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Containers under the configured runtime roots. Each container is handled by the runtime whose state it has
 * (runc's {@code state.json}, crun's {@code status}): the configured runtime, or the other one when it is
 * installed too. An id found under two roots is listed under both as {@code <root name>:<id>}, the root name
 * being the root's last path segment ({@code k8s.io:abc}); a plain id then names neither.
 */
@Component
final class OciContainerProvider implements TargetProvider, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OciContainerProvider.class);

    /** How long a check's answer stands: long enough that probes and anonymous callers start no processes. */
    private static final Duration CHECK_VALIDITY = Duration.ofSeconds(5);

    private final OciProperties properties;
    /** By state format ({@code runc}, {@code crun}); the configured runtime first. */
    private final Map<String, OciRuntime> runtimes;
    private final BackendStatus status;
    private final Path workDir;
    private final RecentCheck recentCheck = new RecentCheck(CHECK_VALIDITY, this::checkNow);
    private final RunningContainers running;

    OciContainerProvider(OciProperties properties, DataDirectory data) {
        this.properties = properties;
        this.workDir = data.resolve("oci");
        this.running = new RunningContainers(properties.rememberedContainers());
        Map<String, OciRuntime> found = new LinkedHashMap<>();
        String detail;
        String duplicate = duplicateRootName(properties.roots());
        String noPidfds = PidFd.unsupportedBecause();
        if (!properties.enabled()) {
            detail = "disabled by execgate.backends.oci.enabled";
        } else if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            detail = "OCI runtimes run on Linux only";
        } else if (duplicate != null) {
            detail = "two roots end in " + duplicate + "; the last path segments of execgate.backends.oci.roots must differ";
        } else if (noPidfds != null) {
            detail = "cannot follow processes in containers: " + noPidfds;
        } else {
            try {
                OciRuntime primary = OciRuntime.find(properties.runtime(), properties.commandTimeout());
                found.put(primary.family(), primary);
                String other = primary.family().equals("runc") ? "crun" : "runc";
                try {
                    found.put(other, OciRuntime.find(other, properties.commandTimeout()));
                } catch (CommandException e) {
                    // only the configured runtime, then
                }
                detail = describe(found.values(), properties.roots());
            } catch (CommandException e) {
                detail = e.getMessage();
            }
        }
        this.runtimes = Map.copyOf(found);
        String name = found.isEmpty() ? Path.of(properties.runtime()).getFileName().toString()
                : found.values().iterator().next().name();
        this.status = new BackendStatus(name, TargetKind.CONTAINER, !found.isEmpty(), detail);
        if (!found.isEmpty()) {
            ExecFiles.sweep(workDir);
        }
    }

    private static String describe(java.util.Collection<OciRuntime> runtimes, List<Path> roots) {
        List<String> parts = new ArrayList<>();
        for (OciRuntime runtime : runtimes) {
            parts.add(runtime.name() + " " + runtime.version() + " at " + runtime.binary()
                    + (runtime.forwardsResize() ? "" : " (resizes through the process's terminal)"));
        }
        return String.join(", ", parts) + "; roots " + roots.stream().map(Path::toString).toList();
    }

    private static @Nullable String duplicateRootName(List<Path> roots) {
        Set<String> names = new HashSet<>();
        for (Path root : roots) {
            if (!names.add(rootName(root))) {
                return rootName(root);
            }
        }
        return null;
    }

    private static String rootName(Path root) {
        return root.getFileName() == null ? root.toString() : root.getFileName().toString();
    }

    @Override
    public TargetKind kind() {
        return TargetKind.CONTAINER;
    }

    @Override
    public BackendStatus status() {
        return status;
    }

    /** Each runtime still answers {@code --version}, asked at most every few seconds (the health endpoint is public). */
    @Override
    public BackendStatus check() {
        return recentCheck.get();
    }

    private BackendStatus checkNow() {
        for (OciRuntime runtime : runtimes.values()) {
            try {
                RuntimeCommand.Result result = RuntimeCommand.run(List.of(runtime.binary().toString(), "--version"),
                        properties.commandTimeout());
                if (!result.succeeded()) {
                    return new BackendStatus(status.name(), status.kind(), false,
                            runtime.name() + " --version failed: " + result.complaint());
                }
            } catch (CommandException e) {
                return new BackendStatus(status.name(), status.kind(), false, e.getMessage());
            }
        }
        return status;
    }

    @Override
    public List<TargetInfo> list() {
        List<OciContainer> containers = new ArrayList<>();
        for (Path root : properties.roots()) {
            for (OciRuntime runtime : runtimes.values()) {
                if (!holds(root, runtime.family())) {
                    continue;
                }
                try {
                    containers.addAll(runtime.list(root));
                } catch (CommandException e) {
                    log.warn("cannot list the containers under {}: {}", root, e.getMessage());
                }
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        containers.forEach(c -> seen.merge(c.id(), 1, Integer::sum));
        return containers.stream().map(c -> info(c, seen.get(c.id()) > 1)).toList();
    }

    /** Whether {@code root} has a container in the given state format. */
    private static boolean holds(Path root, String family) {
        if (!Files.isDirectory(root)) {
            return false;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path dir : dirs) {
                if (family.equals(OciRuntime.familyOf(dir))) {
                    return true;
                }
            }
        } catch (IOException e) {
            log.warn("cannot read {}: {}", root, e.getMessage());
        }
        return false;
    }

    @Override
    public Optional<TargetInfo> describe(String id) {
        return find(id).map(found -> info(found.container(), id.indexOf(':') >= 0));
    }

    /**
     * A process host for the container whose state directory the id names. The runtime is not asked here: the
     * start asks it ({@code state}) right before the exec, unless it knows the container runs
     * ({@link RunningContainers}).
     */
    @Override
    public Optional<ProcessHost> open(String id) {
        List<Candidate> candidates = only(id, candidates(id));
        return candidates.stream().findFirst().map(c -> new OciProcessHost(new TargetRef(TargetKind.CONTAINER, id),
                c.runtime(), c.root(), c.id(), workDir, properties.startTimeout(), properties.outputGrace(),
                Clock.systemUTC(), running));
    }

    /** Lets go of the pidfds of the containers it remembers. */
    @Override
    public void close() {
        running.close();
    }

    /** A root holding a state directory for the id, in a format a runtime here reads. */
    private record Candidate(Path root, String id, OciRuntime runtime) {
    }

    private record Found(OciContainer container, OciRuntime runtime) {
    }

    /**
     * Where an id may name a container: a plain id under any root, or {@code <root name>:<id>} under that root,
     * by the state directories alone.
     */
    private List<Candidate> candidates(String id) {
        int colon = id.indexOf(':');
        String plain = colon < 0 ? id : id.substring(colon + 1);
        if (runtimes.isEmpty() || !OciRuntime.validId(plain)) {
            return List.of();
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Path root : properties.roots()) {
            String family = OciRuntime.familyOf(root.resolve(plain));
            if ((colon < 0 || rootName(root).equals(id.substring(0, colon))) && family != null
                    && runtimes.containsKey(family)) {
                candidates.add(new Candidate(root, plain, runtimes.get(family)));
            }
        }
        return candidates;
    }

    /** The container an id names, as its runtime reports it now. */
    private Optional<Found> find(String id) {
        List<Found> found = new ArrayList<>();
        for (Candidate candidate : candidates(id)) {
            try {
                candidate.runtime().state(candidate.root(), candidate.id())
                        .ifPresent(c -> found.add(new Found(c, candidate.runtime())));
            } catch (CommandException e) {
                log.warn("cannot read the state of container {} under {}: {}", candidate.id(), candidate.root(),
                        e.getMessage());
            }
        }
        only(id, found.stream().map(f -> new Candidate(f.container().root(), f.container().id(), f.runtime())).toList());
        return found.stream().findFirst();
    }

    /** The list, unless it holds more than one: then the id is ambiguous and must be qualified. */
    private static List<Candidate> only(String id, List<Candidate> candidates) {
        if (candidates.size() > 1) {
            String plain = candidates.getFirst().id();
            throw new AmbiguousTargetException("container id " + plain + " is in " + candidates.size()
                    + " runtime roots; name one as <root>:<id>",
                    candidates.stream().map(c -> rootName(c.root()) + ":" + plain).toList());
        }
        return candidates;
    }

    private static String qualified(OciContainer container) {
        return rootName(container.root()) + ":" + container.id();
    }

    private TargetInfo info(OciContainer container, boolean qualify) {
        OciRuntime runtime = runtimes.get(OciRuntime.familyOf(container.root().resolve(container.id())));
        return new TargetInfo(new TargetRef(TargetKind.CONTAINER, qualify ? qualified(container) : container.id()),
                runtime != null ? runtime.name() : status.name(), container.status(),
                container.pid() > 0 ? container.pid() : null, container.createdAt(), container.annotations(),
                container.root().toString(), null);
    }
}
