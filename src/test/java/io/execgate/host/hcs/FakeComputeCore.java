package io.execgate.host.hcs;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The controls of the fake computecore ({@code src/test/native/fake_computecore.c}, built by the build into
 * {@code target/native}). Loaded from the same file as the service's binding, so both see one table of systems.
 */
interface FakeComputeCore extends Library {

    Path LIBRARY = Path.of("target/native/libfakecomputecore.so").toAbsolutePath();

    static FakeComputeCore load() {
        if (!Files.isRegularFile(LIBRARY)) {
            throw new IllegalStateException(LIBRARY + " is missing: the build makes it (exec-maven-plugin, gcc)");
        }
        return Native.load(LIBRARY.toString(), FakeComputeCore.class);
    }

    void FakeHcs_Reset();

    int FakeHcs_AddSystem(String id, String type, String owner, String state, String os);

    int FakeHcs_RemoveSystem(String id);

    void FakeHcs_SetFault(String fault);

    int FakeHcs_OpenHandles();

    int FakeHcs_LastRecord(String kind, byte[] buffer, int length);

    /** What the fake last received: {@code create}, {@code modify} or {@code signal}. */
    default String lastRecord(String kind) {
        byte[] buffer = new byte[8192];
        int n = FakeHcs_LastRecord(kind, buffer, buffer.length);
        return new String(buffer, 0, Math.min(n, buffer.length - 1), StandardCharsets.UTF_8);
    }
}
