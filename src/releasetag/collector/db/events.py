"""The SQL of events, their attachments and client reports."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from releasetag.protocol.timefmt import now_iso

from ..grouping import GroupKey
from . import issue_counts, issues
from .database import Database
from .releases import ensure_release, link_project


def _event_json(event: Dict[str, Any]) -> str:
    """The stored form of an event. Events arrive as parsed JSON, so they hold no cycles:
    encoding without the cycle check is about 15% faster (a resolved JS event is large);
    anything else falls back to the checked encoder."""
    try:
        return json.dumps(
            event, ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False
        )
    except RecursionError:
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


class EventsQueries(Database):
    """Events, attachments and client reports (``Store`` methods)."""

    def insert_event(
        self,
        project_id: int,
        event: Dict[str, Any],
        summary: Dict[str, Any],
        attachments: Iterable[Dict[str, Any]] = (),
        release_valid: bool = True,
        client_reports: Iterable[Dict[str, Any]] = (),
    ) -> bool:
        """Store one event, its attachments and the envelope's client reports atomically;
        returns once committed. False if the event was already stored (the reports are kept
        anyway). Concurrent calls share one transaction (group commit)."""
        payload = _event_json(event)
        attachments = list(attachments)
        client_reports = list(client_reports)

        key = GroupKey.of(event)  # computed before taking the write lock

        def work(c: sqlite3.Connection) -> Tuple[bool, Optional[Tuple[str, int, int]], Any]:
            self._insert_reports(c, project_id, client_reports)
            if c.execute(
                "SELECT 1 FROM events WHERE event_id = ?", (summary["event_id"],)
            ).fetchone():
                return False, None, None
            release_id, remember = self._release_of_event(c, summary, project_id, release_valid)
            group_id = issues.assign_group(c, project_id, key, summary, release_id)
            received = now_iso()
            c.execute(
                "INSERT INTO events(event_id, project_id, received, timestamp, level, "
                "platform, release, environment, dist, title, message, exception_type, "
                "exception_value, culprit, group_id, payload) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    summary["event_id"],
                    project_id,
                    received,
                    summary.get("timestamp"),
                    summary.get("level"),
                    summary.get("platform"),
                    summary.get("release"),
                    summary.get("environment"),
                    summary.get("dist"),
                    summary.get("title"),
                    summary.get("message"),
                    summary.get("exception_type"),
                    summary.get("exception_value"),
                    summary.get("culprit"),
                    group_id,
                    payload,
                ),
            )
            issue_counts.record(
                c, group_id, event, received, summary.get("release"), summary.get("environment")
            )
            for att in attachments:
                c.execute(
                    "INSERT INTO attachments(event_id, filename, content_type, "
                    "attachment_type, size, data) VALUES (?,?,?,?,?,?)",
                    (
                        summary["event_id"],
                        att.get("filename"),
                        att.get("content_type"),
                        att.get("attachment_type"),
                        len(att["data"]),
                        att["data"],
                    ),
                )
            return True, remember, release_id

        inserted, remember, release_id = self.group_write(work)
        if remember is not None:
            self.remember_release(remember, release_id)
        return inserted

    def _release_of_event(
        self, c: sqlite3.Connection, summary: Dict[str, Any], project_id: int, valid: bool
    ) -> Tuple[Optional[int], Optional[Tuple[str, int, int]]]:
        """The id of the event's release (created with the project when new, inside the
        event's transaction), and what to remember of it once committed (or None)."""
        version = summary.get("release")
        if not version or not valid:
            return None, None
        known = self._release_ids.get((version, project_id))
        if known is not None:
            return known, None
        release_id = ensure_release(c, version)
        link_project(c, release_id, project_id)
        return release_id, (version, project_id, self._release_cache_gen)

    @staticmethod
    def _insert_reports(
        c: sqlite3.Connection, project_id: int, reports: Iterable[Dict[str, Any]]
    ) -> None:
        for report in reports:
            c.execute(
                "INSERT INTO client_reports(project_id, received, payload) VALUES (?,?,?)",
                (project_id, now_iso(), json.dumps(report, default=str)),
            )

    def insert_client_reports(self, project_id: int, reports: Sequence[Dict[str, Any]]) -> None:
        with self.write() as c:
            self._insert_reports(c, project_id, reports)

    def client_reports(self, project_id: int) -> List[Dict[str, Any]]:
        return [
            json.loads(r["payload"])
            for r in self.query(
                "SELECT payload FROM client_reports WHERE project_id = ? ORDER BY id", (project_id,)
            )
        ]

    def events(
        self,
        project_id: int,
        *,
        release: Optional[str] = None,
        environment: Optional[str] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> List[sqlite3.Row]:
        sql = "SELECT * FROM events WHERE project_id = ?"
        params: List[Any] = [project_id]
        if release is not None:
            sql += " AND release = ?"
            params.append(release)
        if environment is not None:
            sql += " AND environment = ?"
            params.append(environment)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return self.query(sql, params)

    def event(self, event_id: str, project_id: Optional[int] = None) -> Optional[sqlite3.Row]:
        row = self.query_one(
            "SELECT * FROM events WHERE event_id = ?", (event_id.replace("-", "").lower(),)
        )
        if row is None or (project_id is not None and row["project_id"] != project_id):
            return None
        return row

    def attachments(self, event_id: str) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, filename, content_type, attachment_type, size "
            "FROM attachments WHERE event_id = ? ORDER BY id",
            (event_id,),
        )

    def event_counts(self, release: str) -> List[sqlite3.Row]:
        """(environment, count, last) rows of one release's events."""
        return self.query(
            "SELECT environment, COUNT(*) AS count, MAX(received) AS last "
            "FROM events WHERE release = ? GROUP BY environment "
            "ORDER BY environment",
            (release,),
        )

    def count_events_without_release(self) -> int:
        row = self.query_one("SELECT COUNT(*) AS n FROM events WHERE release IS NULL")
        return int(row["n"]) if row else 0

    def event_counts_by_release(self) -> List[sqlite3.Row]:
        """(release, environment, n) rows over all events."""
        return self.query(
            "SELECT release, environment, COUNT(*) AS n FROM events "
            "GROUP BY release, environment ORDER BY release, environment"
        )

    def count_events(self) -> int:
        return int(self.query_row("SELECT COUNT(*) AS n FROM events")["n"])

    def count_release_events(self, project_id: int, release: str) -> int:
        return int(
            self.query_row(
                "SELECT COUNT(*) AS n FROM events WHERE project_id = ? AND release = ?",
                (project_id, release),
            )["n"]
        )
