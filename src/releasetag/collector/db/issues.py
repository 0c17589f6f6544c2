"""The SQL of issues: groups, their regressions, commit references, and the reads that
insights, pages and the issues API make of them.

Functions that take a connection ``c`` run inside the caller's transaction (ingest and
commit upload call them while storing the event or the commits); the rest are methods of
``IssuesQueries``, which :class:`~releasetag.collector.db.store.Store` inherits. The rules
they apply (fingerprints, what reopens an issue, which commit messages name an issue) come
from ``grouping`` and ``commitrefs``, which hold no SQL.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Tuple

from releasetag.protocol.timefmt import now_iso

from .. import commitrefs
from ..grouping import REGRESSED, RESOLVED, GroupKey
from . import issue_counts, pipeline
from .database import Database
from .filters import ISSUE_SORTS, events_exist_clause

Row = sqlite3.Row
# (status, resolved_kind, resolved_release_id, resolved_by, resolved_at)
StatusValues = Tuple[str, Optional[str], Optional[int], Optional[str], Optional[str]]


# -- at ingest (inside the event's transaction) -------------------------------------------------
def assign_group(
    c: sqlite3.Connection,
    project_id: int,
    key: GroupKey,
    summary: Dict[str, Any],
    release_id: Optional[int],
    seen: Optional[str] = None,
) -> int:
    """The issue of an event about to be stored (created when new), with its status updated
    (``seen``: when the event arrived, default now)."""
    now = seen or now_iso()
    event_id = summary["event_id"]
    row = c.execute(
        "SELECT id, status, resolved_kind, resolved_release_id FROM groups "
        "WHERE project_id = ? AND hash = ?",
        (project_id, key.digest),
    ).fetchone()
    if row is None:
        num = c.execute(
            "SELECT COALESCE(MAX(short_num), 0) + 1 FROM groups WHERE project_id = ?", (project_id,)
        ).fetchone()[0]
        new_id = c.execute(
            "INSERT INTO groups(project_id, short_num, hash, fingerprint, title, culprit, level, "
            "type, exception_type, exception_value, first_seen, first_release_id, "
            "first_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                num,
                key.digest,
                json.dumps(key.parts)[:4000],
                summary.get("title"),
                summary.get("culprit"),
                summary.get("level"),
                "error" if summary.get("exception_type") else "default",
                summary.get("exception_type"),
                summary.get("exception_value"),
                now,
                release_id,
                event_id,
            ),
        ).lastrowid
        assert new_id is not None
        return new_id
    group_id: int = row[0]
    # counts and "last seen" are kept by the caller (issue_counts.record): an event of a known
    # issue costs one indexed lookup here, plus a write only when it reopens the issue
    if row[1] == RESOLVED and pipeline.reopens(
        c, row[2], row[3], release_id, summary.get("environment")
    ):
        c.execute(
            "UPDATE groups SET status = ?, resolved_kind = NULL, "
            "resolved_release_id = NULL, resolved_by = NULL, resolved_at = NULL "
            "WHERE id = ?",
            (REGRESSED, group_id),
        )
        c.execute(
            "INSERT INTO group_regressions(group_id, release_id, environment, "
            "resolved_release_id, event_id, date) VALUES (?,?,?,?,?,?)",
            (group_id, release_id, summary.get("environment") or "", row[3], event_id, now),
        )
    return group_id


_BACKFILL_COLUMNS = (
    "event_id",
    "environment",
    "title",
    "culprit",
    "level",
    "exception_type",
    "exception_value",
)


# -- at commit upload (inside the commits' transaction) ----------------------------------------
def apply_commit_refs(c: sqlite3.Connection, release_id: int) -> List[Dict[str, Any]]:
    """Resolve the issues the release's commit messages name (``Fixes WIDGETS-7``); record
    every reference with its outcome (``resolved`` or ``ignored`` and why)."""
    c.execute("DELETE FROM commit_issue_refs WHERE release_id = ?", (release_id,))
    projects = {
        row[1].upper(): (row[0], row[1])
        for row in c.execute("SELECT id, slug FROM projects").fetchall()
    }
    own = {
        row[0]
        for row in c.execute(
            "SELECT project_id FROM release_projects WHERE release_id = ?", (release_id,)
        )
    }
    commits = c.execute(
        "SELECT c.key, c.message FROM release_commits rc JOIN commits c ON c.id = rc.commit_id "
        "WHERE rc.release_id = ? ORDER BY rc.ord DESC",
        (release_id,),
    ).fetchall()
    now = now_iso()
    records = []
    for key, message in commits:  # oldest first
        for ref in commitrefs.issue_refs(message):
            prefix, num = commitrefs.split_ref(ref)
            project = projects.get(prefix)
            group = None
            if project is None:
                outcome, reason = "ignored", f"no project {prefix.lower()!r} on this collector"
            elif own and project[0] not in own:
                outcome = "ignored"
                reason = f"issue of project {project[1]!r}, which is not a project of this release"
            else:
                group = c.execute(
                    "SELECT id FROM groups WHERE project_id = ? AND short_num = ?",
                    (project[0], num),
                ).fetchone()
                if group is None:
                    outcome, reason = "ignored", f"no issue {ref}"
                else:
                    outcome, reason = "resolved", None
                    c.execute(
                        "UPDATE groups SET status = ?, resolved_kind = 'inCommit', "
                        "resolved_release_id = ?, resolved_by = ?, resolved_at = ? "
                        "WHERE id = ?",
                        (RESOLVED, release_id, "commit " + key, now, group[0]),
                    )
            c.execute(
                "INSERT INTO commit_issue_refs(release_id, commit_key, short_id, group_id,"
                " outcome, reason, date) VALUES (?,?,?,?,?,?,?)",
                (release_id, key, ref, group[0] if group else None, outcome, reason, now),
            )
            records.append({"commit": key, "shortId": ref, "outcome": outcome, "reason": reason})
    return records


class IssuesQueries(Database):
    """Issues, regressions and the reads insights and pages make of them (``Store`` methods)."""

    def has_ungrouped_events(self) -> bool:
        return self.query_one("SELECT 1 FROM events WHERE group_id IS NULL LIMIT 1") is not None

    def backfill(self, batch: int = 500) -> int:
        """Group the events stored before grouping existed (``group_id`` NULL), oldest first, in
        transactions of ``batch`` events, then count them all again (``issue_counts``); returns
        how many were grouped."""
        total = 0
        while True:
            with self.write() as c:
                rows = c.execute(
                    "SELECT e.*, r.id AS release_row FROM events e LEFT JOIN releases r "
                    "ON r.version = e.release WHERE e.group_id IS NULL ORDER BY e.id LIMIT ?",
                    (batch,),
                ).fetchall()
                for row in rows:
                    try:
                        event = json.loads(row["payload"])
                    except ValueError:
                        event = {}
                    summary = {k: row[k] for k in _BACKFILL_COLUMNS}
                    group_id = assign_group(
                        c,
                        row["project_id"],
                        GroupKey.of(event if isinstance(event, dict) else {}),
                        summary,
                        row["release_row"],
                        seen=row["received"],
                    )
                    c.execute("UPDATE events SET group_id = ? WHERE id = ?", (group_id, row["id"]))
            total += len(rows)
            if len(rows) < batch:
                with self.write() as c:
                    issue_counts.rebuild(c)  # count the newly grouped events, exactly
                return total

    def group_event_stats(self, group_id: int) -> Dict[str, Any]:
        """``times_seen``, ``user_count``, ``last_seen``, ``last_event_id`` and
        ``last_release_id`` of an issue, from the counts kept at ingest (``issue_counts``) and
        its latest event (None where it has none)."""
        stats = self.query_one(
            "SELECT events, users, last_seen FROM group_counts WHERE group_id = ?", (group_id,)
        )
        last = self.query_one(
            "SELECT event_id FROM events WHERE group_id = ? ORDER BY id DESC LIMIT 1", (group_id,)
        )
        rel = self.query_one(
            "SELECT MAX(r.id) AS id FROM releases r WHERE r.version IN "
            "(SELECT value FROM group_tallies WHERE group_id = ? AND tag = 'release')",
            (group_id,),
        )
        return {
            "times_seen": stats["events"] if stats else 0,
            "user_count": stats["users"] if stats else 0,
            "last_seen": stats["last_seen"] if stats else None,
            "last_event_id": last["event_id"] if last else None,
            "last_release_id": rel["id"] if rel and rel["id"] else None,
        }

    def group_by_id(self, group_id: int) -> Optional[Row]:
        return self.query_one("SELECT * FROM groups WHERE id = ?", (group_id,))

    def group_by_short_id(self, prefix: str, num: int) -> Optional[Row]:
        """The issue ``PREFIX-NUM`` (``prefix`` upper-cased, as short IDs are)."""
        return self.query_one(
            "SELECT g.* FROM groups g JOIN projects p ON p.id = g.project_id "
            "WHERE upper(p.slug) = ? AND g.short_num = ?",
            (prefix, num),
        )

    def first_group_with_exception(self, exception_type: str) -> Optional[Row]:
        return self.query_one(
            "SELECT * FROM groups WHERE exception_type = ? ORDER BY id LIMIT 1", (exception_type,)
        )

    def release_version(self, release_id: int) -> Optional[str]:
        row = self.query_one("SELECT version FROM releases WHERE id = ?", (release_id,))
        return row["version"] if row else None

    def search_groups(
        self,
        project_id: int,
        *,
        statuses: Sequence[str] = (),
        release: Optional[str] = None,
        environment: Optional[str] = None,
        first_release: Optional[str] = None,
        text: Optional[str] = None,
        limit: int = 100,
        sort: str = "last_seen",
    ) -> List[Row]:
        """Issues of a project, most recently seen first (or by ``sort``, a key of
        ``ISSUE_SORTS``): with one of ``statuses`` (any when empty), with events in ``release``
        / ``environment``, first seen in ``first_release``, whose title or culprit contains
        ``text``."""
        sql = "SELECT g.* FROM groups g WHERE g.project_id = ?"
        params: List[Any] = [project_id]
        if statuses:
            sql += " AND g.status IN (" + ",".join("?" * len(statuses)) + ")"
            params += list(statuses)
        sql += events_exist_clause(release, environment, params)
        if first_release is not None:
            sql += " AND g.first_release_id = (SELECT id FROM releases WHERE version = ?)"
            params.append(first_release)
        if text:
            sql += (
                " AND (instr(lower(g.title), lower(?)) > 0"
                " OR instr(lower(g.culprit), lower(?)) > 0)"
            )
            params += [text, text]
        sql += " ORDER BY " + ISSUE_SORTS[sort] + " LIMIT ?"
        params.append(limit)
        return self.query(sql, params)

    def group_events(self, group_id: int, limit: int = 100, offset: int = 0) -> List[Row]:
        return self.query(
            "SELECT * FROM events WHERE group_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (group_id, limit, offset),
        )

    def group_releases(self, group_id: int) -> List[Dict[str, Any]]:
        """(release, environment, count, first/last seen) rows of an issue, in release order
        (from ``group_tallies``; ``version`` None for events without a release)."""
        rows = self.query(
            "SELECT NULLIF(t.value, '') AS version, t.environment, t.events AS times_seen, "
            "t.first_seen, t.last_seen, r.id AS release_id FROM group_tallies t "
            "LEFT JOIN releases r ON r.version = t.value WHERE t.group_id = ? "
            "AND t.tag = 'release' ORDER BY COALESCE(r.id, 0), t.environment",
            (group_id,),
        )
        return [dict(r) for r in rows]

    def group_regressions(self, group_id: int) -> List[Row]:
        return self.query(
            "SELECT * FROM group_regressions WHERE group_id = ? ORDER BY id", (group_id,)
        )

    def last_resolution_release(self, group_id: int) -> Optional[int]:
        """The release an issue was last resolved in before it regressed, if any."""
        reg = self.query_one(
            "SELECT resolved_release_id FROM group_regressions WHERE "
            "group_id = ? AND resolved_release_id IS NOT NULL "
            "ORDER BY id DESC LIMIT 1",
            (group_id,),
        )
        return reg["resolved_release_id"] if reg else None

    def release_ids_between(self, after: int, upto: int) -> List[int]:
        """Ids of the releases created after release ``after``, up to release ``upto``."""
        rows = self.query(
            "SELECT id FROM releases WHERE id > ? AND id <= ? ORDER BY id", (after, upto)
        )
        return [r["id"] for r in rows]

    def event_payload(self, event_id: str) -> Optional[str]:
        row = self.query_one("SELECT payload FROM events WHERE event_id = ?", (event_id,))
        return row["payload"] if row else None

    def commits_of_releases(self, release_ids: Sequence[int]) -> List[Dict[str, Any]]:
        """Commits of the releases with ``release_id``, ``ord``, ``release``, ``repo_name`` and
        the ``paths`` they changed."""
        if not release_ids:
            return []
        marks = ",".join("?" * len(release_ids))
        commits = self.query(
            "SELECT c.*, rc.release_id, rc.ord, r.version AS release, rp.name AS repo_name "
            "FROM release_commits rc JOIN commits c ON c.id = rc.commit_id "
            "JOIN releases r ON r.id = rc.release_id JOIN repos rp ON rp.id = c.repo_id "
            f"WHERE rc.release_id IN ({marks})",
            list(release_ids),
        )
        paths: Dict[int, List[str]] = {}
        for f in self.query(
            "SELECT DISTINCT f.commit_id, f.path FROM release_commits rc JOIN commit_files f "
            f"ON f.commit_id = rc.commit_id WHERE rc.release_id IN ({marks})",
            list(release_ids),
        ):
            paths.setdefault(f["commit_id"], []).append(f["path"])
        return [dict(commit, paths=paths.get(commit["id"], [])) for commit in commits]

    def release_issue_rows(
        self, release_id: int, version: str, environment: Optional[str] = None
    ) -> Dict[str, List[Row]]:
        """What a release report reads: ``new`` (first seen in it, with events of it),
        ``regressed`` (reopened by an event of it), ``resolved`` (resolved in it), ``counts``
        (events and issues per environment) and ``refs`` (issue references of its commits)."""
        env_sql, env_params = (
            ("", []) if environment is None else (" AND e.environment = ?", [environment])
        )
        new = self.query(
            "SELECT g.* FROM groups g WHERE g.first_release_id = ? AND EXISTS (SELECT 1 FROM "
            "events e WHERE e.group_id = g.id AND e.release = ?" + env_sql + ") "
            "ORDER BY g.short_num",
            [release_id, version] + env_params,
        )
        reg_env = "" if environment is None else " AND x.environment = ?"
        regressed = self.query(
            "SELECT g.* FROM groups g WHERE g.id IN (SELECT x.group_id FROM group_regressions x "
            "WHERE x.release_id = ?" + reg_env + ") ORDER BY g.short_num",
            [release_id] + ([] if environment is None else [environment]),
        )
        resolved = self.query(
            "SELECT g.* FROM groups g WHERE g.status = ? AND "
            "g.resolved_release_id = ? ORDER BY g.short_num",
            (RESOLVED, release_id),
        )
        counts = self.query(
            "SELECT e.environment, COUNT(*) AS count, COUNT(DISTINCT e.group_id) AS issues "
            "FROM events e WHERE e.release = ?"
            + env_sql
            + " GROUP BY e.environment ORDER BY e.environment",
            [version] + env_params,
        )
        refs = self.query(
            "SELECT * FROM commit_issue_refs WHERE release_id = ? ORDER BY id", (release_id,)
        )
        return {
            "new": new,
            "regressed": regressed,
            "resolved": resolved,
            "counts": counts,
            "refs": refs,
        }

    def new_issue_count(self, release_id: int) -> int:
        row = self.query_one(
            "SELECT COUNT(*) AS n FROM groups WHERE first_release_id = ?", (release_id,)
        )
        return int(row["n"]) if row else 0

    def latest_release_id(self, project_id: int) -> Optional[int]:
        """The newest release of the project (of any project when it has none)."""
        row = self.query_one(
            "SELECT MAX(release_id) AS id FROM release_projects WHERE project_id = ?", (project_id,)
        )
        if row and row["id"]:
            return int(row["id"])
        row = self.query_one("SELECT MAX(id) AS id FROM releases")
        return int(row["id"]) if row and row["id"] else None

    def set_status(self, group_id: int, values: StatusValues) -> None:
        """Set (status, resolved_kind, resolved_release_id, resolved_by, resolved_at)."""
        with self.write() as c:
            c.execute(
                "UPDATE groups SET status = ?, resolved_kind = ?, resolved_release_id = ?, "
                "resolved_by = ?, resolved_at = ? WHERE id = ?",
                (*values, group_id),
            )

    def set_assignee(self, group_id: int, name: Optional[str], email: Optional[str]) -> None:
        with self.write() as c:
            c.execute(
                "UPDATE groups SET assignee_name = ?, assignee_email = ? WHERE id = ?",
                (name, email, group_id),
            )
