package io.execgate.host.oci;

import java.util.Locale;

import io.execgate.host.StartFailure.Kind;

/**
 * Which kind of start failure a runtime's error message describes. runc 1.1 and crun 1.8 word them differently
 * ({@code RuntimeErrorsTest} has both); both are matched.
 */
final class RuntimeErrors {

    private RuntimeErrors() {
    }

    static Kind kind(String message) {
        String m = message.toLowerCase(Locale.ROOT);
        if (m.contains("chdir") || m.contains("cwd")) {
            return Kind.BAD_WORKING_DIR;
        }
        if (m.contains("executable file not found") || m.contains("not found in $path")
                || (m.contains("exec: \"") && m.contains("no such file or directory"))) {
            return Kind.EXECUTABLE_NOT_FOUND;
        }
        boolean denied = m.contains("permission denied") || m.contains("operation not permitted");
        // Only a denial about the command itself makes it "not executable" (126, as a shell says): runc's
        // `exec: "x": permission denied`, crun's `open executable` and, in later versions, `exec container process`.
        // One about the runtime's own state (a service that may not read /run/runc/<id>) is the service's.
        if (m.contains("open executable") || m.contains("exec format error")
                || (denied && (m.contains("exec: \"") || m.contains("exec container process")))) {
            return Kind.NOT_EXECUTABLE;
        }
        if (m.contains("uid") || m.contains("gid") || m.contains("userspec") || m.contains("setgroups")) {
            return Kind.BAD_USER;
        }
        if (denied) {
            return Kind.ACCESS_DENIED;
        }
        if (m.contains("does not exist") || m.contains("not running") || m.contains("stopped container")
                || m.contains("paused") || m.contains("error opening file")) {
            return Kind.TARGET_GONE;
        }
        return Kind.BACKEND_ERROR;
    }
}
