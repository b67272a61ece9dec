package io.execgate.records;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import io.execgate.exec.ExecRecord;
import io.execgate.exec.ExecState;
import io.execgate.exec.ExecStore;
import io.execgate.host.ExitReason;
import io.execgate.host.TargetKind;
import org.jspecify.annotations.Nullable;
import org.springframework.dao.DataAccessResourceFailureException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Exec records in the {@code exec_record} table. Each call is one statement in its own transaction, committed
 * before it returns; calls take turns on the database's one connection. The upsert (three per exec) and the
 * delete (one per exec the registry lets go) are prepared once and kept: preparing the upsert and binding its 25
 * parameters by name cost about as much as SQLite's write.
 */
final class SqliteExecStore implements ExecStore {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() { };
    private static final String UPSERT = """
            INSERT INTO exec_record (id, target_kind, target_id, command, tty, stdin, state, pid, exit_code, signal,
                reason, error, created_at, started_at, exited_at, ended_at, stdout_bytes, stderr_bytes,
                stdout_dropped_bytes, stderr_dropped_bytes, stdin_path, stdout_path, stderr_path, principal, remote_address)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, pid = excluded.pid, exit_code = excluded.exit_code,
                signal = excluded.signal, reason = excluded.reason, error = excluded.error,
                started_at = excluded.started_at, exited_at = excluded.exited_at, ended_at = excluded.ended_at,
                stdout_bytes = excluded.stdout_bytes, stderr_bytes = excluded.stderr_bytes,
                stdout_dropped_bytes = excluded.stdout_dropped_bytes, stderr_dropped_bytes = excluded.stderr_dropped_bytes,
                stdin_path = excluded.stdin_path, stdout_path = excluded.stdout_path, stderr_path = excluded.stderr_path
            """;
    private static final String DELETE = "DELETE FROM exec_record WHERE id = ?";
    private static final Duration PROBE_INTERVAL = Duration.ofSeconds(2);

    private final RecordsDatabase database;
    private @Nullable PreparedStatement upsert; // guarded by this
    private @Nullable PreparedStatement delete; // guarded by this
    /** Why the last write failed, until a write succeeds again: the records health is DOWN meanwhile. */
    private @Nullable String writeFailure; // guarded by this
    private @Nullable String probeFailure; // guarded by this
    private long lastProbe; // guarded by this; System.nanoTime() of the last probe write, 0 before the first

    SqliteExecStore(RecordsDatabase database) {
        this.database = database;
    }

    @Override
    public synchronized List<ExecRecord> loadAll() {
        return database.jdbc().sql("SELECT * FROM exec_record ORDER BY rowid").query(SqliteExecStore::row).list();
    }

    @Override
    public synchronized void save(ExecRecord r) {
        database.checkStillThere();
        try {
            if (upsert == null) {
                upsert = database.connection().prepareStatement(UPSERT);
            }
            bind(upsert, r);
            upsert.executeUpdate();
            writeFailure = null;
        } catch (SQLException e) {
            closeStatements(); // prepared again by the next call, in case a statement itself is what broke
            throw failed("saving exec record " + r.id(), e);
        }
    }

    /**
     * Notes a failed write for the health indicator, and names it without the statement's text: the message ends up
     * in 503 problem documents ("[SQLITE_FULL] ... (database or disk is full)").
     */
    private DataAccessResourceFailureException failed(String what, SQLException e) {
        String message = what + ": " + e.getMessage();
        writeFailure = message;
        return new DataAccessResourceFailureException(message, e);
    }

    /**
     * Null while writes succeed. After a failed one, a probe write tells whether writing works again (space was
     * freed, say), since a service whose readiness is down gets no exec that would write and find out.
     */
    synchronized @Nullable String writeFailure() {
        String failure = writeFailure;
        if (failure == null) {
            return null;
        }
        // Health is anyone's to ask: at most one probe write per interval, whoever asks how often.
        long now = System.nanoTime();
        if (lastProbe != 0 && now - lastProbe < PROBE_INTERVAL.toNanos()) {
            return failure + (probeFailure == null ? "" : "; a probe write fails too: " + probeFailure);
        }
        lastProbe = now;
        try {
            database.probeWrite();
            writeFailure = null;
            probeFailure = null;
            return null;
        } catch (RuntimeException stillFailing) {
            probeFailure = RecordsUnavailableException.rootMessage(stillFailing);
            return failure + "; a probe write fails too: " + probeFailure;
        }
    }

    private static void bind(PreparedStatement statement, ExecRecord r) throws SQLException {
        int i = 0;
        statement.setString(++i, r.id());
        statement.setString(++i, r.targetKind().value());
        statement.setString(++i, r.targetId());
        statement.setString(++i, JSON.writeValueAsString(r.command()));
        statement.setBoolean(++i, r.tty());
        statement.setBoolean(++i, r.stdin());
        statement.setString(++i, r.state().value());
        statement.setObject(++i, r.pid(), Types.BIGINT);
        statement.setObject(++i, r.exitCode(), Types.INTEGER);
        statement.setString(++i, r.signal());
        statement.setString(++i, r.reason() == null ? null : r.reason().value());
        statement.setString(++i, r.error());
        statement.setString(++i, text(r.createdAt()));
        statement.setString(++i, text(r.startedAt()));
        statement.setString(++i, text(r.exitedAt()));
        statement.setString(++i, text(r.endedAt()));
        statement.setLong(++i, r.stdoutBytes());
        statement.setLong(++i, r.stderrBytes());
        statement.setLong(++i, r.stdoutDroppedBytes());
        statement.setLong(++i, r.stderrDroppedBytes());
        statement.setString(++i, r.stdinPath());
        statement.setString(++i, r.stdoutPath());
        statement.setString(++i, r.stderrPath());
        statement.setString(++i, r.principal());
        statement.setString(++i, r.remoteAddress());
    }

    /** Lets go of the kept statements; the connection itself belongs to {@link RecordsDatabase}. */
    synchronized void closeStatements() {
        closeQuietly(upsert);
        closeQuietly(delete);
        upsert = null;
        delete = null;
    }

    private static void closeQuietly(@Nullable PreparedStatement statement) {
        if (statement != null) {
            try {
                statement.close();
            } catch (SQLException ignored) {
                // the connection is going or broken: nothing more to free
            }
        }
    }

    @Override
    public synchronized void delete(String id) {
        database.checkStillThere();
        try {
            if (delete == null) {
                delete = database.connection().prepareStatement(DELETE);
            }
            delete.setString(1, id);
            delete.executeUpdate();
            writeFailure = null;
        } catch (SQLException e) {
            closeStatements();
            throw failed("deleting exec record " + id, e);
        }
    }

    /** Records in the table now. */
    synchronized long count() {
        return database.jdbc().sql("SELECT count(*) FROM exec_record").query(Long.class).single();
    }

    private static ExecRecord row(ResultSet rs, int n) throws SQLException {
        return new ExecRecord(rs.getString("id"), kind(rs.getString("target_kind")), rs.getString("target_id"),
                JSON.readValue(rs.getString("command"), STRINGS), rs.getBoolean("tty"), rs.getBoolean("stdin"),
                ExecState.fromValue(rs.getString("state")), nullableLong(rs, "pid"),
                nullableInt(rs, "exit_code"), rs.getString("signal"), reason(rs.getString("reason")),
                rs.getString("error"), instant(rs.getString("created_at")), instant(rs.getString("started_at")),
                instant(rs.getString("exited_at")), instant(rs.getString("ended_at")), rs.getLong("stdout_bytes"),
                rs.getLong("stderr_bytes"), rs.getLong("stdout_dropped_bytes"), rs.getLong("stderr_dropped_bytes"),
                rs.getString("stdin_path"), rs.getString("stdout_path"), rs.getString("stderr_path"),
                rs.getString("principal"), rs.getString("remote_address"));
    }

    private static @Nullable Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static @Nullable Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }

    private static TargetKind kind(String value) {
        return Arrays.stream(TargetKind.values()).filter(k -> k.value().equals(value)).findFirst()
                .orElseThrow(() -> new IllegalStateException("unknown target kind '" + value + "' in a record"));
    }

    private static @Nullable ExitReason reason(@Nullable String value) {
        return value == null ? null : Arrays.stream(ExitReason.values()).filter(r -> r.value().equals(value))
                .findFirst().orElseThrow(() -> new IllegalStateException("unknown reason '" + value + "' in a record"));
    }

    private static @Nullable String text(@Nullable Instant at) {
        return at == null ? null : at.toString();
    }

    private static @Nullable Instant instant(@Nullable String text) {
        return text == null ? null : Instant.parse(text);
    }
}
