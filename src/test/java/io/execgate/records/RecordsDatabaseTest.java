package io.execgate.records;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The records connection's settings that are not visible in what it stores. */
class RecordsDatabaseTest {

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
}
