-- Exec records: the exec resource without its output, and who asked for it. Times are RFC 3339 UTC text,
-- so the file reads well in the sqlite3 shell. Rows are loaded in rowid order, which is creation order.
CREATE TABLE exec_record (
    id                   TEXT    NOT NULL PRIMARY KEY,
    target_kind          TEXT    NOT NULL,
    target_id            TEXT    NOT NULL,
    command              TEXT    NOT NULL, -- a JSON array of strings
    tty                  INTEGER NOT NULL,
    stdin                INTEGER NOT NULL,
    state                TEXT    NOT NULL,
    pid                  INTEGER,
    exit_code            INTEGER,
    signal               TEXT,
    reason               TEXT,
    error                TEXT,
    created_at           TEXT    NOT NULL,
    started_at           TEXT,
    exited_at            TEXT,
    ended_at             TEXT,
    stdout_bytes         INTEGER NOT NULL,
    stderr_bytes         INTEGER NOT NULL,
    stdout_dropped_bytes INTEGER NOT NULL,
    stderr_dropped_bytes INTEGER NOT NULL,
    stdin_path           TEXT,
    stdout_path          TEXT,
    stderr_path          TEXT,
    principal            TEXT    NOT NULL,
    remote_address       TEXT
);

-- Facts about the service itself (the last start), written at each start to prove the file writable.
CREATE TABLE service_state (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
