"""Grouping events into issues, at ingest, inside the transaction that stores the event.

An event's fingerprint is its own ``fingerprint`` when it sends one (``{{ default }}`` stands
for the default components); otherwise the exception types plus the module and function of
the in-app frames (line numbers left out, so an edit elsewhere in a file keeps the issue);
otherwise the message template. Events with the same fingerprint in a project form one issue
(a row of ``groups``) with a short ID ``{PROJECT}-{N}``.

Status moves here too (``unresolved``, ``resolved``, ``regressed``, and ``ignored`` when
muted by hand): an issue resolved in a release reopens as *regressed* when an event
from a later release arrives (release order is creation order, i.e. the release row id); an
event from that release or an earlier one leaves it resolved.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

DEFAULT_TOKEN = "{{ default }}"
UNRESOLVED, RESOLVED, REGRESSED = "unresolved", "resolved", "regressed"
IGNORED = "ignored"  # muted by hand: new events leave it so


def now_iso() -> str:
    """The current UTC time as RFC 3339 (the same text ``store.now_iso`` gives)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _exceptions(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    values = event.get("exception")
    if isinstance(values, dict):
        values = values.get("values")
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _frames(exc: Dict[str, Any]) -> List[Dict[str, Any]]:
    trace = exc.get("stacktrace")
    frames = trace.get("frames") if isinstance(trace, dict) else None
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []


def in_app_frames(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The in-app frames of every exception of an event, oldest call first."""
    return [f for exc in _exceptions(event) for f in _frames(exc) if f.get("in_app")]


def _message_template(event: Dict[str, Any]) -> Optional[str]:
    for key in ("logentry", "message"):
        value = event.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("formatted")
        if isinstance(value, str) and value:
            return value
    return None


def default_components(event: Dict[str, Any]) -> List[str]:
    """The fingerprint an event gets when it does not send its own."""
    exceptions = _exceptions(event)
    if exceptions:
        parts: List[str] = []
        for exc in exceptions:
            parts.append("type:" + str(exc.get("type") or "Error"))
            frames = _frames(exc)
            chosen = [f for f in frames if f.get("in_app")] or frames
            for f in chosen:
                where = f.get("module") or f.get("filename") or f.get("abs_path") or "?"
                parts.append(f"frame:{where}:{f.get('function') or '?'}")
            if not frames:
                parts.append("value:" + str(exc.get("value") or ""))
        return parts
    template = _message_template(event)
    if template is not None:
        return ["message:" + template]
    return ["title:" + str(event.get("transaction") or "<no message>")]


def fingerprint(event: Dict[str, Any]) -> List[str]:
    """The components that decide which issue an event belongs to."""
    own = event.get("fingerprint")
    if isinstance(own, list) and own:
        out: List[str] = []
        for part in own:
            if part == DEFAULT_TOKEN:
                out.extend(default_components(event))
            else:
                out.append("custom:" + str(part))
        return out
    return default_components(event)


def fingerprint_hash(parts: List[str]) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def short_id(project_slug: str, num: int) -> str:
    """``WIDGETS-7`` for project ``widgets``, issue number 7."""
    return f"{project_slug.upper()}-{num}"


class GroupKey:
    """An event's fingerprint and its hash, computed before the write transaction starts."""

    __slots__ = ("parts", "digest")

    def __init__(self, parts: List[str]) -> None:
        self.parts = parts
        self.digest = fingerprint_hash(parts)

    @classmethod
    def of(cls, event: Dict[str, Any]) -> "GroupKey":
        return cls(fingerprint(event))


def assign_group(
    c: sqlite3.Connection,
    project_id: int,
    key: GroupKey,
    summary: Dict[str, Any],
    release_id: Optional[int],
    seen: Optional[str] = None,
) -> int:
    """The issue of an event about to be stored (created when new), with its status updated
    (``seen``: when the event arrived, default now); runs on the caller's connection, inside
    its transaction."""
    parts, digest = key.parts, key.digest
    now = seen or now_iso()
    env = summary.get("environment") or ""
    event_id = summary["event_id"]
    row = c.execute(
        "SELECT id, status, resolved_kind, resolved_release_id FROM groups "
        "WHERE project_id = ? AND hash = ?",
        (project_id, digest),
    ).fetchone()
    if row is None:
        num = c.execute(
            "SELECT COALESCE(MAX(short_num), 0) + 1 FROM groups WHERE project_id = ?", (project_id,)
        ).fetchone()[0]
        return c.execute(
            "INSERT INTO groups(project_id, short_num, hash, fingerprint, title, culprit, level, "
            "type, exception_type, exception_value, first_seen, first_release_id, "
            "first_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                num,
                digest,
                json.dumps(parts)[:4000],
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
    group_id = row[0]
    # counts and "last seen" are read from the group's events: an event of a known issue
    # costs one indexed lookup here, plus a write only when it reopens the issue
    if row[1] == RESOLVED and _reopens(row[2], row[3], release_id):
        c.execute(
            "UPDATE groups SET status = ?, resolved_kind = NULL, "
            "resolved_release_id = NULL, resolved_by = NULL, resolved_at = NULL "
            "WHERE id = ?",
            (REGRESSED, group_id),
        )
        c.execute(
            "INSERT INTO group_regressions(group_id, release_id, environment, "
            "resolved_release_id, event_id, date) VALUES (?,?,?,?,?,?)",
            (group_id, release_id, env, row[3], event_id, now),
        )
    return group_id


def _reopens(
    kind: Optional[str], resolved_release_id: Optional[int], event_release_id: Optional[int]
) -> bool:
    """Whether a new event reopens a resolved issue.

    Resolved without a release: any new event. Resolved in (or in the release after) a
    release: only an event from a later-created release; an event without a release does not."""
    if resolved_release_id is None or kind not in ("inRelease", "inNextRelease", "inCommit"):
        return True
    return event_release_id is not None and event_release_id > resolved_release_id


_BACKFILL_COLUMNS = (
    "event_id",
    "environment",
    "title",
    "culprit",
    "level",
    "exception_type",
    "exception_value",
)


def backfill(store: Any, batch: int = 500) -> int:
    """Group the events stored before grouping existed (``group_id`` NULL), oldest first, in
    transactions of ``batch`` events; returns how many were grouped. ``store`` is the Store."""
    total = 0
    while True:
        with store.write() as c:
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
            return total
