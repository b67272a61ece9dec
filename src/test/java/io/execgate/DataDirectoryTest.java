package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory's lock within one process (DataDirectoryIT holds it against other processes). */
class DataDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void lockingMakesAMissingDirectoryOwnerOnlyAndNamesTheHolder() throws Exception {
        Path data = dir.resolve("a/data");
        try (DataDirectory held = DataDirectory.lock(data)) {
            assertThat(held.path()).isEqualTo(data.toAbsolutePath());
            assertThat(held.resolve("uvm")).isEqualTo(data.toAbsolutePath().resolve("uvm"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
            Path lock = data.resolve(DataDirectory.LOCK_FILE);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lock))).isEqualTo("rw-------");
            assertThat(Files.readString(lock)).startsWith("pid " + ProcessHandle.current().pid() + ", locked at ");
        }
    }

    /** The lock file is not read while held here: closing a descriptor of it would drop this process's lock. */
    @Test
    void aSecondHolderIsRefusedNamingTheFirstUntilTheFirstLetsGo() {
        try (DataDirectory first = DataDirectory.lock(dir)) {
            assertThatExceptionOfType(DataDirectoryException.class).isThrownBy(() -> DataDirectory.lock(dir.resolve(".")))
                    .withMessageStartingWith("the data directory " + dir.toAbsolutePath() + " is in use by another "
                            + "execgate (pid " + ProcessHandle.current().pid() + ", locked at ")
                    .withMessageEndingWith("). A second service on it would take the first's running execs for lost "
                            + "ones and kill its UVMs")
                    .satisfies(refused -> assertThat(refused.dir()).isEqualTo(first.path()));
        }
        try (DataDirectory next = DataDirectory.lock(dir)) {
            assertThat(next.path()).isEqualTo(dir.toAbsolutePath());
        }
    }

    @Test
    void aLinkInPlaceOfTheLockFileIsRefusedAndWhatItPointsToLeftAlone() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "precious");
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.createSymbolicLink(data.resolve(DataDirectory.LOCK_FILE), victim);
        assertThatExceptionOfType(DataDirectoryException.class).isThrownBy(() -> DataDirectory.lock(data))
                .withMessage("the data directory " + data.toAbsolutePath() + " cannot be used: "
                        + data.resolve(DataDirectory.LOCK_FILE).toAbsolutePath() + " is a symbolic link; remove it "
                        + "(execgate makes its lock file itself)");
        assertThat(Files.readString(victim)).isEqualTo("precious");
    }

    @Test
    void aLongerHolderTextIsReplacedNotLeftTrailing() throws Exception {
        Path lock = Files.writeString(dir.resolve(DataDirectory.LOCK_FILE), "x".repeat(500) + "\n");
        try (DataDirectory held = DataDirectory.lock(dir)) {
            assertThat(held.resolve(DataDirectory.LOCK_FILE)).isEqualTo(lock.toAbsolutePath());
            assertThat(Files.readString(lock)).doesNotContain("x").endsWith("Z\n");
        }
    }

    @Test
    void aDirectoryThatCannotBeMadeIsNamedWithTheReason() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "");
        assertThatExceptionOfType(DataDirectoryException.class).isThrownBy(() -> DataDirectory.lock(file.resolve("data")))
                .withMessageStartingWith("the data directory " + file.resolve("data") + " cannot be created: ");
    }
}
