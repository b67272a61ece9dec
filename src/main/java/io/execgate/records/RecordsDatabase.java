package io.execgate.records;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite file that holds the exec records, open on one connection for the life of the service. Opening
 * checks everything that could lose records later and fails naming the file: a write-ahead log left without its
 * database (the file was removed), a file that is not a database or fails its integrity check, a file or
 * directory the service cannot write. Then Flyway brings the schema to the newest version.
 *
 * <p>WAL mode with {@code synchronous=NORMAL}: a commit is in the log before the call returns, so it survives
 * the service being killed (only a power loss can take the newest commits). One connection serves every caller,
 * one at a time, which is what SQLite allows for writers anyway.
 */
final class RecordsDatabase implements AutoCloseable {

    static final String FILE_NAME = "execgate.db";
    private static final Logger log = LoggerFactory.getLogger(RecordsDatabase.class);
    private static final int BUSY_TIMEOUT_MILLIS = 5_000;
    /** About a record with a long command line (most are far smaller; the largest allowed are 1 MiB of arguments). */
    private static final int PROBE_BYTES = 64 * 1024;

    private final Path file;
    private final Connection connection;
    private final JdbcClient jdbc;
    private final @Nullable Object fileKey;

    private RecordsDatabase(Path file, Connection connection, @Nullable Object fileKey) {
        this.file = file;
        this.connection = connection;
        this.fileKey = fileKey;
        this.jdbc = JdbcClient.create(dataSource());
    }

    /** Opens (or creates) {@code <dataDir>/execgate.db}, migrates it and proves it writable. */
    static RecordsDatabase open(Path dataDir) {
        Path file = dataDir.resolve(FILE_NAME).toAbsolutePath().normalize();
        checkBeforeOpening(file);
        Connection connection;
        try {
            connection = config().createConnection("jdbc:sqlite:" + file);
        } catch (SQLException e) {
            throw new RecordsUnavailableException(file, "cannot be opened", e);
        }
        try {
            RecordsDatabase database = new RecordsDatabase(file, connection, fileKey(file));
            database.checkIntegrity();
            database.walMode();
            database.migrate();
            database.proveWritable();
            return database;
        } catch (RuntimeException e) {
            closeQuietly(connection);
            throw e instanceof RecordsUnavailableException known ? known
                    : new RecordsUnavailableException(file, "cannot be used", e);
        }
    }

    private static SQLiteConfig config() {
        SQLiteConfig config = new SQLiteConfig();
        // The service holds the file alone (DataDirectory's lock keeps out a second service): SQLite takes its file
        // locks once and keeps them, instead of six fcntl calls around each of an exec's four writes. The journal
        // and synchronous modes come later, in walMode(): sqlite-jdbc applies its pragmas in no set order, and
        // either one before the locking mode opens an existing log with a shared -shm index; after it, the index
        // lives in the service's memory.
        config.setLockingMode(SQLiteConfig.LockingMode.EXCLUSIVE);
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        config.enforceForeignKeys(true);
        // Nothing reads generated keys; with them on, every insert, update and delete runs and prepares a
        // SELECT last_insert_rowid() after it (about a sixth of the records' CPU per exec).
        config.setGetGeneratedKeys(false);
        return config;
    }

    /** The data directory exists: {@link io.execgate.DataDirectory} made it before anything else ran. */
    private static void checkBeforeOpening(Path file) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new RecordsUnavailableException(file, "is not a regular file");
            }
        } else {
            // SQLite would start an empty database beside the log of the old one: every record gone in silence.
            Path wal = file.resolveSibling(FILE_NAME + "-wal");
            if (Files.exists(wal, LinkOption.NOFOLLOW_LINKS)) {
                throw new RecordsUnavailableException(file, "is missing, but its write-ahead log " + wal
                        + " is there: the database was removed (move the log aside too to start with no records)");
            }
        }
        ownerOnly(file);
    }

    /**
     * The records hold every command line as it was given, secrets included (the audit masks them, the records
     * cannot): the file is the service user's alone, whatever the directory's mode. SQLite gives its log and
     * index files the database's mode.
     */
    private static void ownerOnly(Path file) {
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly)); // an empty file is a new database
            } else if (!Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS).equals(ownerOnly)) {
                Files.setPosixFilePermissions(file, ownerOnly);
            }
        } catch (IOException e) {
            throw new RecordsUnavailableException(file, "cannot be written (its mode cannot be made owner-only)", e);
        }
    }

    private void walMode() {
        String mode = jdbc.sql("PRAGMA journal_mode=WAL").query(String.class).single();
        if (!"wal".equalsIgnoreCase(mode)) {
            throw new RecordsUnavailableException(file, "cannot use a write-ahead log (SQLite keeps journal mode " + mode + ")");
        }
        jdbc.sql("PRAGMA synchronous=NORMAL").update();
    }

    private void checkIntegrity() {
        String result;
        try {
            result = jdbc.sql("PRAGMA quick_check").query(String.class).single();
        } catch (RuntimeException e) {
            throw new RecordsUnavailableException(file, "is not a readable SQLite database", e);
        }
        if (!"ok".equals(result)) {
            throw new RecordsUnavailableException(file, "is corrupt (SQLite's quick_check says: " + result + ")");
        }
    }

    private void migrate() {
        try {
            var result = Flyway.configure()
                    .dataSource(dataSource())
                    .locations("classpath:db/records")
                    .failOnMissingLocations(true)
                    .load()
                    .migrate();
            if (result.migrationsExecuted > 0) {
                log.info("exec records database {} migrated to schema version {}", file, result.targetSchemaVersion);
            }
        } catch (RuntimeException e) {
            throw new RecordsUnavailableException(file, "cannot be brought to the current schema", e);
        }
    }

    /** A read-only file, directory or mount shows only on a write: make one now rather than at the first exec. */
    private void proveWritable() {
        try {
            stamp("last-start", Instant.now().toString());
        } catch (RuntimeException e) {
            throw new RecordsUnavailableException(file, "cannot be written", e);
        }
    }

    /**
     * A write of a record's size, to learn whether writing works again after a write failed; throws while it does
     * not. A small one would tell nothing: it fits in the log space the failed transaction left allocated.
     */
    void probeWrite() {
        stamp("last-probe", Instant.now() + " ".repeat(PROBE_BYTES));
    }

    private void stamp(String key, String value) {
        jdbc.sql("INSERT INTO service_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .params(key, value).update();
    }

    /**
     * Fails when the file was removed or replaced since it was opened: SQLite would go on writing to a file no
     * directory holds any more, and the next start would find no records.
     */
    void checkStillThere() {
        Object now;
        try {
            now = fileKey(file);
        } catch (RecordsUnavailableException e) {
            throw new RecordsUnavailableException(file, "was removed while execgate ran; restart the service to "
                    + "recreate it (the records written since it was removed are lost)");
        }
        if (!Objects.equals(now, fileKey)) {
            throw new RecordsUnavailableException(file, "was replaced while execgate ran; restart the service");
        }
    }

    private static @Nullable Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            throw new RecordsUnavailableException(file, "cannot be found", e);
        }
    }

    JdbcClient jdbc() {
        return jdbc;
    }

    /** The one connection, for statements a caller prepares once and keeps (it must not close the connection). */
    Connection connection() {
        return connection;
    }

    Path file() {
        return file;
    }

    /** The one connection, lent out without being closed by borrowers (Flyway, JdbcClient). */
    private DataSource dataSource() {
        return new SingleConnectionDataSource(connection, true);
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the exec records database failed: {}", e.getMessage());
        }
    }
}
