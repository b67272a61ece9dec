package io.execgate.host.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import io.execgate.host.BackendStatus;
import io.execgate.host.HostName;
import io.execgate.host.ProcessHost;
import io.execgate.host.TargetInfo;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import io.execgate.host.TargetRef;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/** The service's own host as the one target of kind {@code host}. */
@Component
final class LocalHostProvider implements TargetProvider {

    private static final String NAME = "local";

    private final TargetRef ref;
    private final BackendStatus status;
    private final @Nullable LocalProcessHost host;

    LocalHostProvider(LocalHostProperties properties) {
        this.ref = new TargetRef(TargetKind.HOST, HostName.current());
        String unusable = unusableBecause(properties);
        if (unusable != null) {
            this.status = new BackendStatus(NAME, TargetKind.HOST, false, unusable);
            this.host = null;
            return;
        }
        String setpriv = Files.isExecutable(Path.of("/usr/bin/setpriv")) ? "/usr/bin/setpriv" : null;
        boolean root = Libc.INSTANCE.geteuid() == 0;
        String users = !root ? "execs run as the service's user (not root)"
                : setpriv == null ? "execs run as root (no setpriv to switch users)"
                : "user switching through " + setpriv;
        this.status = new BackendStatus(NAME, TargetKind.HOST, true, "posix_spawn, glibc " + glibcVersion() + "; " + users);
        this.host = new LocalProcessHost(ref, properties, UserLookup.system(), setpriv, Clock.systemUTC());
    }

    @Override
    public TargetKind kind() {
        return TargetKind.HOST;
    }

    @Override
    public BackendStatus status() {
        return status;
    }

    @Override
    public List<TargetInfo> list() {
        return host == null ? List.of() : List.of(new TargetInfo(ref, NAME, "running", null, null, Map.of(), null, null));
    }

    @Override
    public Optional<TargetInfo> describe(String id) {
        return list().stream().filter(t -> t.ref().id().equals(id)).findFirst();
    }

    @Override
    public Optional<ProcessHost> open(String id) {
        return host != null && ref.id().equals(id) ? Optional.of(host) : Optional.empty();
    }

    private static @Nullable String unusableBecause(LocalHostProperties properties) {
        if (!properties.enabled()) {
            return "disabled by execgate.backends.local.enabled";
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "the local backend runs on Linux only (found " + System.getProperty("os.name") + ")";
        }
        try {
            NativeLibrary.getInstance("c").getFunction("posix_spawn_file_actions_addclosefrom_np");
            Libc.INSTANCE.geteuid();
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return "glibc 2.34 or newer is needed (posix_spawn_file_actions_addclosefrom_np): " + e.getMessage();
        }
    }

    private static String glibcVersion() {
        try {
            Function version = NativeLibrary.getInstance("c").getFunction("gnu_get_libc_version");
            return version.invokeString(new Object[0], false);
        } catch (UnsatisfiedLinkError e) {
            return "unknown";
        }
    }
}
