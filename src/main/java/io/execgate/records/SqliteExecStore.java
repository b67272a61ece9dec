package io.execgate.records;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import io.execgate.exec.ExecRecord;
import io.execgate.exec.ExecState;
import io.execgate.exec.ExecStore;
import io.execgate.host.ExitReason;
import io.execgate.host.TargetKind;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Exec records in the {@code exec_record} table. Each call is one statement in its own transaction, committed
 * before it returns; calls take turns on the database's one connection.
 */
final class SqliteExecStore implements ExecStore {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() { };
    private static final String UPSERT = """
            INSERT INTO exec_record (id, target_kind, target_id, command, tty, stdin, state, pid, exit_code, signal,
                reason, error, created_at, started_at, exited_at, ended_at, stdout_bytes, stderr_bytes,
                stdout_dropped_bytes, stderr_dropped_bytes, stdin_path, stdout_path, stderr_path, principal, remote_address)
            VALUES (:id, :targetKind, :targetId, :command, :tty, :stdin, :state, :pid, :exitCode, :signal,
                :reason, :error, :createdAt, :startedAt, :exitedAt, :endedAt, :stdoutBytes, :stderrBytes,
                :stdoutDroppedBytes, :stderrDroppedBytes, :stdinPath, :stdoutPath, :stderrPath, :principal, :remoteAddress)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, pid = excluded.pid, exit_code = excluded.exit_code,
                signal = excluded.signal, reason = excluded.reason, error = excluded.error,
                started_at = excluded.started_at, exited_at = excluded.exited_at, ended_at = excluded.ended_at,
                stdout_bytes = excluded.stdout_bytes, stderr_bytes = excluded.stderr_bytes,
                stdout_dropped_bytes = excluded.stdout_dropped_bytes, stderr_dropped_bytes = excluded.stderr_dropped_bytes,
                stdin_path = excluded.stdin_path, stdout_path = excluded.stdout_path, stderr_path = excluded.stderr_path
            """;

    private final RecordsDatabase database;

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
        database.jdbc().sql(UPSERT)
                .param("id", r.id())
                .param("targetKind", r.targetKind().value())
                .param("targetId", r.targetId())
                .param("command", JSON.writeValueAsString(r.command()))
                .param("tty", r.tty())
                .param("stdin", r.stdin())
                .param("state", r.state().value())
                .param("pid", r.pid())
                .param("exitCode", r.exitCode())
                .param("signal", r.signal())
                .param("reason", r.reason() == null ? null : r.reason().value())
                .param("error", r.error())
                .param("createdAt", text(r.createdAt()))
                .param("startedAt", text(r.startedAt()))
                .param("exitedAt", text(r.exitedAt()))
                .param("endedAt", text(r.endedAt()))
                .param("stdoutBytes", r.stdoutBytes())
                .param("stderrBytes", r.stderrBytes())
                .param("stdoutDroppedBytes", r.stdoutDroppedBytes())
                .param("stderrDroppedBytes", r.stderrDroppedBytes())
                .param("stdinPath", r.stdinPath())
                .param("stdoutPath", r.stdoutPath())
                .param("stderrPath", r.stderrPath())
                .param("principal", r.principal())
                .param("remoteAddress", r.remoteAddress())
                .update();
    }

    @Override
    public synchronized void delete(String id) {
        database.checkStillThere();
        database.jdbc().sql("DELETE FROM exec_record WHERE id = ?").param(id).update();
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
