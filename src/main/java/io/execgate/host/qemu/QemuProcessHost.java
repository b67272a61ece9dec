package io.execgate.host.qemu;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.execgate.host.ConsoleSize;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;

/**
 * Commands in one QEMU UVM, through its agent. A VM that is still booting is waited for (up to the boot
 * timeout), so a client may create a VM and exec into it at once. The guest has no user database: users are
 * numeric ({@code uid[:gid]}).
 */
final class QemuProcessHost implements ProcessHost {

    /** The guest's base environment; the exec's variables are added, later ones winning. */
    private static final List<String> BASE_ENV = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/root");
    private static final ConsoleSize DEFAULT_SIZE = new ConsoleSize(80, 24);

    private final Uvm uvm;
    private final Duration bootTimeout;
    private final Duration startTimeout;

    QemuProcessHost(Uvm uvm, Duration bootTimeout, Duration startTimeout) {
        this.uvm = uvm;
        this.bootTimeout = bootTimeout;
        this.startTimeout = startTimeout;
    }

    @Override
    public TargetRef target() {
        return new TargetRef(TargetKind.UVM, uvm.id());
    }

    @Override
    public HostProcess start(ProcessSpec spec) throws StartFailure {
        AgentConnection agent;
        try {
            agent = uvm.awaitAgent(bootTimeout);
        } catch (IOException e) {
            throw new StartFailure(StartFailure.Kind.TARGET_GONE, "uvm " + uvm.id() + " is not running: " + e.getMessage());
        }
        int[] user = user(spec.user());
        ConsoleSize size = spec.consoleSize() != null ? spec.consoleSize() : DEFAULT_SIZE;
        AgentPayloads.Exec exec = new AgentPayloads.Exec(spec.args(), environment(spec), spec.workingDir() == null
                ? "/" : spec.workingDir(), spec.tty(), size.height(), size.width(), user[0], user[1]);
        return agent.exec(exec, spec.openStdin(), spec.openStdout(), spec.openStderr(), startTimeout);
    }

    private static List<String> environment(ProcessSpec spec) {
        Map<String, String> merged = new LinkedHashMap<>();
        List<String> all = new ArrayList<>(BASE_ENV);
        if (spec.tty()) {
            all.add("TERM=xterm"); // what Docker sets for a tty
        }
        all.addAll(spec.env());
        for (String entry : all) {
            int eq = entry.indexOf('=');
            merged.put(eq < 0 ? entry : entry.substring(0, eq), entry);
        }
        return List.copyOf(merged.values());
    }

    /** {@code uid[:gid]} as numbers; -1 keeps the agent's own (root). */
    private static int[] user(String user) throws StartFailure {
        if (user == null || user.isEmpty()) {
            return new int[] {-1, -1};
        }
        String[] parts = user.split(":", 2);
        try {
            int uid = Integer.parseInt(parts[0]);
            int gid = parts.length > 1 ? Integer.parseInt(parts[1]) : uid;
            if (uid < 0 || gid < 0) {
                throw new NumberFormatException();
            }
            return new int[] {uid, gid};
        } catch (NumberFormatException e) {
            throw new StartFailure(StartFailure.Kind.BAD_USER, "a UVM has no user database: give the user as a numeric "
                    + "uid[:gid], not '" + user + "'");
        }
    }
}
