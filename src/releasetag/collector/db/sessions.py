"""The SQL of release health: session updates, aggregate counts, rejected items and the
reads the health figures are made of (``collector.health`` holds the arithmetic).

- ``sessions``: one row per (project, sid), the latest update. An update replaces the row
  only when its ``seq`` is higher, and never lowers a final status (crashed > abnormal >
  exited) or the error count, so duplicates and out-of-order updates change nothing.
- ``session_counts``: request-mode aggregates, added up per (project, release,
  environment, start minute, did).
- ``rejected_items``: how many items were refused, per type and reason.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from releasetag.protocol.session_fields import FINAL_STATUSES, STATUS_RANK
from releasetag.protocol.timefmt import now_iso

from .database import Database
from .releases import ensure_release, link_project

Row = sqlite3.Row


def store_updates(
    c: sqlite3.Connection,
    project_id: int,
    updates: Sequence[Dict[str, Any]],
    counts: Sequence[Dict[str, Any]],
    rejected: Sequence[Tuple[str, str]],
) -> None:
    """Write validated updates and counts (inside the caller's transaction)."""
    for update in updates:
        _store_update(c, project_id, update)
    for count in counts:
        c.execute(
            "INSERT INTO session_counts(project_id, release, environment, started, did, "
            "exited, errored, crashed, abnormal) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(project_id, release, environment, started, did) DO UPDATE SET "
            "exited = exited + excluded.exited, errored = errored + excluded.errored, "
            "crashed = crashed + excluded.crashed, abnormal = abnormal + excluded.abnormal",
            (
                project_id,
                count["release"],
                count["environment"],
                count["started"],
                count["did"],
                count["exited"],
                count["errored"],
                count["crashed"],
                count["abnormal"],
            ),
        )
    for item_type, reason in rejected:
        c.execute(
            "INSERT INTO rejected_items(project_id, item_type, reason, count, last_seen) "
            "VALUES (?,?,?,1,?) ON CONFLICT(project_id, item_type, reason) DO UPDATE SET "
            "count = count + 1, last_seen = excluded.last_seen",
            (project_id, item_type, reason[:300], now_iso()),
        )


def _store_update(c: sqlite3.Connection, project_id: int, u: Dict[str, Any]) -> None:
    row = c.execute(
        "SELECT seq, status, errors, started FROM sessions WHERE project_id = ? AND sid = ?",
        (project_id, u["sid"]),
    ).fetchone()
    if row is None:
        c.execute(
            "INSERT INTO sessions(project_id, sid, did, release, environment, started, "
            "updated, duration, seq, errors, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                u["sid"],
                u["did"],
                u["release"],
                u["environment"],
                u["started"],
                u["timestamp"],
                u["duration"],
                u["seq"],
                u["errors"],
                u["status"],
            ),
        )
        return
    if u["seq"] <= row["seq"]:
        return  # a duplicate or an older update
    status = u["status"]
    if row["status"] in FINAL_STATUSES and STATUS_RANK[status] < STATUS_RANK[row["status"]]:
        status = row["status"]
    c.execute(
        "UPDATE sessions SET did = COALESCE(?, did), updated = ?, duration = ?, seq = ?, "
        "errors = ?, status = ? WHERE project_id = ? AND sid = ?",
        (
            u["did"],
            u["timestamp"],
            u["duration"],
            u["seq"],
            max(int(u["errors"]), int(row["errors"])),
            status,
            project_id,
            u["sid"],
        ),
    )


def _filters(
    project_ids: Optional[Sequence[int]],
    releases: Optional[Sequence[str]],
    environments: Optional[Sequence[str]],
) -> Tuple[str, List[Any]]:
    where: List[str] = []
    params: List[Any] = []
    for column, values in (
        ("project_id", project_ids),
        ("release", releases),
        ("environment", environments),
    ):
        if values is not None:
            where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
            params.extend(values)
    return "".join(f" AND {w}" for w in where), params


class SessionsQueries(Database):
    """Session updates, aggregates and rejected items (``Store`` methods)."""

    def insert_sessions(
        self,
        project_id: int,
        updates: Sequence[Dict[str, Any]],
        counts: Sequence[Dict[str, Any]],
        rejected: Sequence[Tuple[str, str]],
    ) -> None:
        """Store session updates, aggregate counts and the reasons items were rejected, in
        one transaction (see ``db.sessions``); the releases they name are created."""
        versions = {u["release"] for u in updates} | {c["release"] for c in counts}

        def work(c: sqlite3.Connection) -> None:
            for version in versions:
                link_project(c, ensure_release(c, version), project_id)
            store_updates(c, project_id, updates, counts, rejected)

        self.group_write(work)

    def rejected_counts(self, project_id: Optional[int] = None) -> List[Row]:
        sql = "SELECT project_id, item_type, reason, count, last_seen FROM rejected_items"
        params: List[Any] = []
        if project_id is not None:
            sql += " WHERE project_id = ?"
            params.append(project_id)
        return self.query(sql + " ORDER BY item_type, reason", params)

    def session_rows(
        self,
        start: float,
        end: float,
        project_ids: Optional[Sequence[int]] = None,
        releases: Optional[Sequence[str]] = None,
        environments: Optional[Sequence[str]] = None,
    ) -> Tuple[List[Row], List[Row]]:
        """Sessions started in [start, end), as two lists of rows with project_id, release,
        environment, started (the minute) and did: single sessions with their ``outcome``
        (healthy, errored, crashed, abnormal) and ``n``, then aggregate counts with exited,
        errored, crashed and abnormal."""
        extra, params = _filters(project_ids, releases, environments)
        single = (
            "SELECT project_id, release, environment, "
            "CAST(started / 60 AS INTEGER) * 60 AS started, "
            "did, CASE WHEN status = 'crashed' THEN 'crashed' WHEN status = 'abnormal' THEN "
            "'abnormal' WHEN errors > 0 OR status = 'errored' THEN 'errored' ELSE 'healthy' END "
            "AS outcome, COUNT(*) AS n FROM sessions WHERE started >= ? AND started < ?"
            + extra
            + " GROUP BY 1, 2, 3, 4, 5, 6"
        )
        rows = self.query(single, [start, end, *params])
        counted = self.query(
            "SELECT project_id, release, environment, started, NULLIF(did, '') AS did, exited, "
            "errored, crashed, abnormal FROM session_counts WHERE started >= ? AND started < ?"
            + extra,
            [start, end, *params],
        )
        return rows, counted

    def first_and_last(self, release: str) -> List[Row]:
        """Per (project, environment) of ``release``: the first session start and the last
        update seen."""
        return self.query(
            "SELECT project_id, environment, MIN(first) AS first, MAX(last) AS last FROM ("
            "SELECT project_id, environment, MIN(started) AS first, MAX(updated) AS last "
            "FROM sessions WHERE release = ? GROUP BY 1, 2 UNION ALL "
            "SELECT project_id, environment, MIN(started), MAX(started) + 60 FROM session_counts "
            "WHERE release = ? GROUP BY 1, 2) GROUP BY 1, 2",
            (release, release),
        )

    def has_sessions(self) -> bool:
        return bool(
            self.query_one("SELECT 1 FROM sessions LIMIT 1")
            or self.query_one("SELECT 1 FROM session_counts LIMIT 1")
        )

    def releases_with_sessions(self, releases: Sequence[str]) -> Set[Tuple[str, int]]:
        """The (release, project id) pairs of ``releases`` that have sessions."""
        if not releases:
            return set()
        marks = ",".join("?" * len(releases))
        rows = self.query(
            f"SELECT DISTINCT release, project_id FROM sessions WHERE release IN ({marks}) "
            "UNION SELECT DISTINCT release, project_id FROM session_counts "
            f"WHERE release IN ({marks})",
            [*releases, *releases],
        )
        return {(r["release"], r["project_id"]) for r in rows}
