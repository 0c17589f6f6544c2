"""Schema step 4: the tables of logs and trace metrics (see ``logs.py``). Kept apart from
``logs.py`` so that ``schema.py`` can list it without importing the query modules."""

from __future__ import annotations

import sqlite3

V4_TABLES = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY, -- time_id(): the timestamp in microseconds, times 1024, plus a
    -- sequence number: newest first is the rowid order, which FTS5 also reads in
    item_id TEXT NOT NULL, project_id INTEGER NOT NULL,
    received REAL NOT NULL, timestamp REAL NOT NULL, release TEXT, environment TEXT,
    level TEXT NOT NULL, severity_number INTEGER, logger TEXT, trace_id TEXT, span_id TEXT,
    body TEXT NOT NULL, attributes TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_release ON logs(release, level);
CREATE INDEX IF NOT EXISTS logs_release_order ON logs(release);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id, timestamp);
CREATE TABLE IF NOT EXISTS metric_aggregates (
    project_id INTEGER NOT NULL, release TEXT NOT NULL, environment TEXT NOT NULL,
    name TEXT NOT NULL, type TEXT NOT NULL, unit TEXT NOT NULL, count INTEGER NOT NULL,
    sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, last REAL NOT NULL,
    last_timestamp REAL NOT NULL,
    PRIMARY KEY (project_id, release, environment, name, type, unit))
"""

V4_FTS = """
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(body, content='logs', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS logs_fts_insert AFTER INSERT ON logs BEGIN
    INSERT INTO logs_fts(rowid, body) VALUES (new.id, new.body); END;
CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs BEGIN
    INSERT INTO logs_fts(logs_fts, rowid, body) VALUES ('delete', old.id, old.body); END
"""


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has the FTS5 module."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def _script(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def migrate_v4(conn: sqlite3.Connection) -> None:
    """Schema step 4: logs, their text index (when FTS5 exists) and metric aggregates."""
    _script(conn, V4_TABLES)
    if fts5_available(conn):
        _script(conn, V4_FTS)
