package io.execgate.host.hcs;

import java.io.IOException;
import java.time.Clock;
import java.util.Map;

import io.execgate.host.HostProcess;
import io.execgate.host.ProcessHost;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import io.execgate.host.TargetRef;

/** One compute system as a place to run processes: {@code HcsCreateProcess} with the schema's process parameters. */
final class HcsProcessHost implements ProcessHost {

    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final TargetRef target;
    private final HcsApi api;
    private final String systemId;
    private final HcsDocuments.Flavor flavor;
    private final Clock clock;

    HcsProcessHost(TargetRef target, HcsApi api, String systemId, HcsDocuments.Flavor flavor, Clock clock) {
        this.target = target;
        this.api = api;
        this.systemId = systemId;
        this.flavor = flavor;
        this.clock = clock;
    }

    @Override
    public TargetRef target() {
        return target;
    }

    @Override
    public HostProcess start(ProcessSpec spec) throws StartFailure {
        Map<String, String> env = HcsDocuments.environment(spec.env());
        if (flavor != HcsDocuments.Flavor.WINDOWS) {
            env.putIfAbsent("PATH", DEFAULT_PATH); // a Linux guest gets the environment as it is given
            if (spec.tty()) {
                env.putIfAbsent("TERM", "xterm");
            }
        }
        String parameters = HcsDocuments.processParameters(spec.args(), flavor, spec.workingDir(), env, spec.user(),
                spec.tty(), spec.consoleSize(), spec.openStdin(), spec.openStdout(), spec.openStderr());
        try (HcsApi.SystemHandle system = api.open(systemId)) {
            HcsApi.Created created = system.createProcess(parameters, String.join(" ", spec.args()));
            try {
                return new HcsProcess(api, systemId, flavor != HcsDocuments.Flavor.WINDOWS, created, clock);
            } catch (IOException e) {
                throw new StartFailure(Kind.BACKEND_ERROR, e.getMessage(), e);
            }
        } catch (HcsException e) {
            throw new StartFailure(kind(e.hresult()), e.getMessage(), e);
        }
    }

    /** What a failed create means for the API: gone is 409, not found 404, a timeout 503, the rest (denied too) 422. */
    static Kind kind(int hr) {
        if (HResult.is(hr, HResult.HCS_E_SYSTEM_NOT_FOUND)) {
            return Kind.TARGET_NOT_FOUND;
        }
        if (HResult.alreadyStopped(hr) || HResult.is(hr, HResult.HCS_E_INVALID_STATE)) {
            return Kind.TARGET_GONE;
        }
        if (HResult.accessDenied(hr)) {
            return Kind.ACCESS_DENIED;
        }
        if (HResult.timedOut(hr) || HResult.is(hr, HResult.HCS_E_SERVICE_DISCONNECT)) {
            return Kind.BACKEND_UNAVAILABLE;
        }
        int win32 = HResult.win32(hr);
        if (win32 == 2 || win32 == 3) { // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND
            return Kind.EXECUTABLE_NOT_FOUND;
        }
        return Kind.BACKEND_ERROR;
    }
}
