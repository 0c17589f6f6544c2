"""The SQL of logs and trace metrics (schema version 4).

- ``logs``: one row per log line of a ``log`` envelope item (release, environment, level,
  logger, trace and span id, body, typed attributes as JSON), newest first by ``timestamp``.
- ``logs_fts``: an FTS5 index over the bodies (external content, kept by triggers). SQLite
  builds without FTS5 get no index: text search then scans with ``LIKE`` (slow on many logs,
  but the same answers); ``LogsQueries.logs_search_kind`` says which one is in use.
- ``metric_aggregates``: per (project, release, environment, name, type, unit) the count,
  sum, min, max and last value of ``trace_metric`` items.
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .database import Database

Row = sqlite3.Row

LOG_COLUMNS = (
    "id, item_id, project_id, received, timestamp, release, environment, level, "
    "severity_number, logger, trace_id, span_id, body, attributes"
)
INSERT_LOG = f"INSERT INTO logs({LOG_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
MAX_TIMESTAMP = 8e9  # seconds: time_id() stays within SQLite's 64-bit integer
_sequence = itertools.count()


def time_id(timestamp: float) -> int:
    """A log's row id: ordered as its timestamp (to the microsecond), then as it came."""
    return int(timestamp * 1e6) * 1024 + (next(_sequence) & 1023)


def store_logs(c: sqlite3.Connection, rows: Sequence[Tuple[Any, ...]]) -> None:
    """Insert log rows (tuples in ``LOG_COLUMNS`` order without ``id``; the timestamp is the
    fourth) inside the caller's transaction. Ids are taken from the timestamps; when one is
    taken already (more than 1024 logs in one microsecond) the log goes right after it."""
    with_ids = [(time_id(r[3]),) + tuple(r) for r in rows]
    c.execute("SAVEPOINT logs_batch")
    try:
        c.executemany(INSERT_LOG, with_ids)
    except sqlite3.IntegrityError:
        c.execute("ROLLBACK TO logs_batch")
        for row in with_ids:
            _insert_one(c, row)
    c.execute("RELEASE logs_batch")


def _insert_one(c: sqlite3.Connection, row: Tuple[Any, ...]) -> None:
    for _ in range(1000):
        try:
            c.execute(INSERT_LOG, row)
            return
        except sqlite3.IntegrityError:
            taken = c.execute(
                "SELECT max(id) FROM logs WHERE id >= ? AND id < ?", (row[0], row[0] + (1 << 30))
            ).fetchone()[0]
            row = (int(taken) + 1,) + row[1:]
    raise sqlite3.IntegrityError("no free log id near this timestamp")


def store_metrics(
    c: sqlite3.Connection, project_id: int, metrics: Sequence[Dict[str, Any]]
) -> None:
    """Fold metric samples into the per-release aggregates (inside the caller's transaction)."""
    for m in metrics:
        c.execute(
            "INSERT INTO metric_aggregates(project_id, release, environment, name, type, unit, "
            "count, sum, min, max, last, last_timestamp) VALUES (?,?,?,?,?,?,1,?,?,?,?,?) "
            "ON CONFLICT(project_id, release, environment, name, type, unit) DO UPDATE SET "
            "count = count + 1, sum = sum + excluded.sum, min = min(min, excluded.min), "
            "max = max(max, excluded.max), "
            "last = CASE WHEN excluded.last_timestamp >= last_timestamp "
            "THEN excluded.last ELSE last END, "
            "last_timestamp = max(last_timestamp, excluded.last_timestamp)",
            (
                project_id,
                m["release"],
                m["environment"],
                m["name"],
                m["type"],
                m["unit"],
                m["value"],
                m["value"],
                m["value"],
                m["value"],
                m["timestamp"],
            ),
        )


def fts_query(text: str) -> str:
    """Free text as an FTS5 query: every word must occur (each quoted, so no operators)."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words)


class LogFilter:
    """What a logs listing asks for (every part optional)."""

    def __init__(
        self,
        project_id: Optional[int] = None,
        release: Optional[str] = None,
        environment: Optional[str] = None,
        level: Optional[str] = None,
        logger: Optional[str] = None,
        trace_id: Optional[str] = None,
        text: str = "",
        since: Optional[float] = None,
        until: Optional[float] = None,
    ) -> None:
        self.project_id = project_id
        self.release = release
        self.environment = environment
        self.level = level
        self.logger = logger
        self.trace_id = trace_id
        self.text = text.replace("\x00", " ").strip()  # FTS5 queries end at a NUL
        self.since = since
        self.until = until

    def where(self, fts: bool) -> Tuple[str, List[Any], str]:
        """(`` FROM ... WHERE ...``, its parameters, the newest-first order column). With
        words to search the FTS5 index drives, read in rowid order: a rare word reads only
        its matches, a common one only as many as the page needs."""
        source = " FROM logs"
        order = "logs.id"
        clauses: List[str] = []
        params: List[Any] = []
        for column in ("project_id", "release", "environment", "level", "logger", "trace_id"):
            value = getattr(self, column)
            if value is not None and value != "":
                clauses.append(f"logs.{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("logs.timestamp >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("logs.timestamp <= ?")
            params.append(self.until)
        words = self.text.split()
        # words the index has tokens for go to FTS5; punctuation-only words (and every word
        # on an SQLite without FTS5) are matched as substrings
        indexed = [w for w in words if fts and any(ch.isalnum() for ch in w)]
        if indexed:
            source = " FROM logs_fts CROSS JOIN logs ON logs.id = logs_fts.rowid"
            order = "logs_fts.rowid"
            clauses.insert(0, "logs_fts MATCH ?")
            params.insert(0, fts_query(" ".join(indexed)))
        for word in words:
            if word not in indexed:
                escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                clauses.append("logs.body LIKE ? ESCAPE '\\'")
                params.append(f"%{escaped}%")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return source + where, params, order


class LogsQueries(Database):
    """Store methods for logs and trace metrics."""

    _logs_fts: Optional[bool] = None

    def logs_search_kind(self) -> str:
        """``fts5`` when bodies are indexed, else ``scan``."""
        if self._logs_fts is None:
            self._logs_fts = bool(
                self.query_one("SELECT 1 FROM sqlite_master WHERE name = 'logs_fts'")
            )
        return "fts5" if self._logs_fts else "scan"

    def insert_logs(
        self,
        project_id: int,
        rows: Sequence[Tuple[Any, ...]],
        metrics: Sequence[Dict[str, Any]],
        rejected: Sequence[Tuple[str, str]],
    ) -> None:
        """Store log rows, metric samples and rejected-item reasons in one transaction."""
        from .sessions import store_updates

        def work(c: sqlite3.Connection) -> None:
            store_logs(c, rows)
            store_metrics(c, project_id, metrics)
            if rejected:
                store_updates(c, project_id, (), (), rejected)

        self.group_write(work)

    def find_logs(self, flt: LogFilter, limit: int = 100, offset: int = 0) -> List[Row]:
        """Logs matching ``flt``, newest first."""
        source, params, order = flt.where(self.logs_search_kind() == "fts5")
        return self.query(
            f"SELECT logs.*{source} ORDER BY {order} DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def count_logs(self, flt: LogFilter) -> int:
        source, params, _ = flt.where(self.logs_search_kind() == "fts5")
        return int(self.query_row(f"SELECT count(*){source}", params)[0])

    def log_level_counts(self, release: str) -> Dict[str, int]:
        """{level: count} of a release's logs."""
        rows = self.query(
            "SELECT level, count(*) FROM logs WHERE release = ? GROUP BY level", (release,)
        )
        return {r[0]: int(r[1]) for r in rows}

    def logs_of_trace(self, trace_id: str, until: float, limit: int = 50) -> List[Row]:
        """The last ``limit`` logs of a trace up to ``until``, oldest first."""
        rows = self.query(
            "SELECT * FROM logs WHERE trace_id = ? AND timestamp <= ? ORDER BY id DESC LIMIT ?",
            (trace_id, until, limit),
        )
        return list(reversed(rows))

    def metric_aggregates(self, release: Optional[str] = None) -> List[Row]:
        """Metric aggregates (of one release, or all), by name."""
        if release is None:
            return self.query("SELECT * FROM metric_aggregates ORDER BY release, name, type")
        return self.query(
            "SELECT * FROM metric_aggregates WHERE release = ? ORDER BY name, type, environment",
            (release,),
        )
