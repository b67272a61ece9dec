package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The records connection's settings that are not visible in what it stores. */
class RecordsDatabaseTest {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    @TempDir
    Path dataDir;

    /**
     * With generated keys on, sqlite-jdbc runs (and prepares) a {@code SELECT last_insert_rowid()} after every
     * write, for keys the store never reads; an empty key set after an insert shows that query did not run.
     */
    @Test
    void writesDoNotFetchGeneratedKeys() throws Exception {
        try (RecordsDatabase database = RecordsDatabase.open(dataDir)) {
            try (Statement create = database.connection().createStatement()) {
                create.execute("CREATE TEMP TABLE probe (value TEXT)");
            }
            try (PreparedStatement insert = database.connection().prepareStatement("INSERT INTO probe VALUES (?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                insert.setString(1, "one");
                assertThat(insert.executeUpdate()).isEqualTo(1);
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    assertThat(keys.next()).as("a generated key was fetched").isFalse();
                }
            }
        }
    }

    /**
     * Exclusive locking, WAL and synchronous=NORMAL, at the first open and at every later one: with the journal or
     * synchronous mode set before the locking mode, reopening a database whose log exists made a shared -shm index
     * (and file locking on it for every write).
     */
    @Test
    void everyOpenIsExclusiveWithItsLogIndexInMemory() throws Exception {
        for (int open = 1; open <= 2; open++) {
            try (RecordsDatabase database = RecordsDatabase.open(dataDir)) {
                database.probeWrite(); // a log to reopen
                assertThat(pragma(database, "locking_mode")).as("open %d", open).isEqualTo("exclusive");
                assertThat(pragma(database, "journal_mode")).as("open %d", open).isEqualTo("wal");
                assertThat(pragma(database, "synchronous")).as("open %d: NORMAL", open).isEqualTo("1");
                assertThat(dataDir.resolve("execgate.db-wal")).as("open %d", open).exists();
                assertThat(dataDir.resolve("execgate.db-shm")).as("open %d", open).doesNotExist();
            }
        }
    }

    private static String pragma(RecordsDatabase database, String name) throws Exception {
        try (Statement statement = database.connection().createStatement();
                ResultSet value = statement.executeQuery("PRAGMA " + name)) {
            assertThat(value.next()).isTrue();
            return value.getString(1);
        }
    }

    /** The file holds command lines with their secrets: only the service's user may read it, and its log too. */
    @Test
    void theFilesAreTheServiceUsersAloneWhateverTheDirectory() throws Exception {
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (RecordsDatabase database = RecordsDatabase.open(dataDir)) {
            assertThat(Files.getPosixFilePermissions(database.file())).isEqualTo(OWNER_ONLY);
            assertThat(Files.getPosixFilePermissions(dataDir.resolve("execgate.db-wal"))).isEqualTo(OWNER_ONLY);
        }
        // one an older version left readable to all is made owner-only at the next start
        Files.setPosixFilePermissions(dataDir.resolve("execgate.db"), PosixFilePermissions.fromString("rw-r--r--"));
        try (RecordsDatabase database = RecordsDatabase.open(dataDir)) {
            assertThat(Files.getPosixFilePermissions(database.file())).isEqualTo(OWNER_ONLY);
        }
    }
}
