package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory sqlite-jdbc's library goes into: the service's own, emptied of what a killed service left. */
class SqliteLibraryDirectoryTest {

    @TempDir
    Path tmp;

    @Test
    void aPrivateDirectoryPerDataDirectoryEmptiedOfWhatAKilledServiceLeft() throws Exception {
        Path dir = SqliteLibraryDirectory.prepare(tmp, Path.of("/var/lib/execgate"));
        assertThat(dir).isNotNull().isDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        Files.writeString(dir.resolve("sqlite-3.54.1.0-1f2e-libsqlitejdbc.so"), "a killed service's copy");
        Files.writeString(dir.resolve("sqlite-3.54.1.0-1f2e-libsqlitejdbc.so.lck"), "");

        assertThat(SqliteLibraryDirectory.prepare(tmp, Path.of("/var/lib/execgate/."))).isEqualTo(dir);
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
        assertThat(SqliteLibraryDirectory.prepare(tmp, Path.of("/srv/other"))).as("another data directory's")
                .isNotEqualTo(dir);
    }

    @Test
    void aDirectoryOpenToOthersOrALinkIsNotUsedNorEmptied() throws Exception {
        Path dir = SqliteLibraryDirectory.prepare(tmp, Path.of("/data"));
        Path planted = Files.writeString(dir.resolve("libsqlitejdbc.so"), "someone else's");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThat(SqliteLibraryDirectory.prepare(tmp, Path.of("/data"))).isNull();
        assertThat(planted).exists();

        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path link = SqliteLibraryDirectory.prepare(tmp, Path.of("/data2"));
        Files.delete(link);
        Files.createSymbolicLink(link, elsewhere);
        assertThat(SqliteLibraryDirectory.prepare(tmp, Path.of("/data2"))).isNull();
    }
}
