package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import io.execgate.host.StartFailure;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutableLookupTest {

    @TempDir
    Path dir;
    private Path bin;
    private Path other;

    @BeforeEach
    void tree() throws Exception {
        bin = Files.createDirectories(dir.resolve("bin"));
        other = Files.createDirectories(dir.resolve("other"));
        executable(bin.resolve("tool"), "rwxr-xr-x");
        executable(other.resolve("tool"), "rwxr-xr-x");
        executable(bin.resolve("private"), "rwx------");
        executable(bin.resolve("plain"), "rw-r--r--");
    }

    @Test
    void searchesThePathInOrder() throws Exception {
        String path = bin + ":" + other;
        assertThat(ExecutableLookup.resolve("tool", path, dir, null)).isEqualTo(bin.resolve("tool").toString());
        assertThat(ExecutableLookup.resolve("tool", other + ":" + bin, dir, null)).isEqualTo(other.resolve("tool").toString());
    }

    @Test
    void skipsFilesThatAreNotExecutableForTheUser() throws Exception {
        Files.copy(bin.resolve("private"), other.resolve("private"));
        Files.setPosixFilePermissions(other.resolve("private"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Credentials someone = new Credentials(4242, 4242, Set.of(), null, null);
        assertThat(ExecutableLookup.resolve("private", bin + ":" + other, dir, someone))
                .isEqualTo(other.resolve("private").toString());
    }

    @Test
    void aMissingCommandIsNotFoundInPath() {
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve("nope", bin.toString(), dir, null))
                .withMessage("exec: \"nope\": executable file not found in $PATH")
                .satisfies(e -> assertThat(e.kind().shellExitCode()).isEqualTo(127));
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve("plain", bin.toString(), dir, null))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(StartFailure.Kind.EXECUTABLE_NOT_FOUND));
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve("tool", null, dir, null));
    }

    @Test
    void aPathWithASlashIsTakenAsGivenRelativeToTheWorkingDirectory() throws Exception {
        assertThat(ExecutableLookup.resolve("bin/tool", "", dir, null)).isEqualTo("bin/tool");
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve("./missing", "", dir, null))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(StartFailure.Kind.EXECUTABLE_NOT_FOUND));
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve(bin.toString() + "/", "", dir, null))
                .withMessageContaining("is a directory")
                .satisfies(e -> assertThat(e.kind().shellExitCode()).isEqualTo(126));
        Credentials someone = new Credentials(4242, 4242, Set.of(), null, null);
        assertThatExceptionOfType(StartFailure.class)
                .isThrownBy(() -> ExecutableLookup.resolve(bin.resolve("private").toString(), "", dir, someone))
                .withMessageContaining("permission denied")
                .satisfies(e -> assertThat(e.kind()).isEqualTo(StartFailure.Kind.NOT_EXECUTABLE));
    }

    @Test
    void ownerAndGroupBitsApplyToTheirOwnersAndMembers() throws Exception {
        Path file = bin.resolve("private");
        int owner = (Integer) Files.getAttribute(file, "unix:uid");
        int group = (Integer) Files.getAttribute(file, "unix:gid");
        assertThat(ExecutableLookup.resolve(file.toString(), "", dir, new Credentials(owner, 4242, Set.of(), null, null)))
                .isEqualTo(file.toString());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-x---"));
        Credentials member = new Credentials(owner == 4242 ? 4243 : 4242, 4242, Set.of(group), null, null);
        assertThat(ExecutableLookup.resolve(file.toString(), "", dir, member)).isEqualTo(file.toString());
    }

    private static void executable(Path file, String permissions) throws Exception {
        Files.writeString(file, "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
    }
}
