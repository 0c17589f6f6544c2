"""Per-issue counts kept at ingest, and migration 8 that adds and backfills them.

The issue page and the stream used to count an issue's events, users, days, releases and
servers by walking all its events (an issue of 56,000 events took 25 ms of SQL per page).
Now the transaction that stores an event also adds it to small summary tables, so every
count on the pages is one indexed read of a few rows, and stays exact:

- ``group_counts``: events, distinct users and last seen of each issue;
- ``group_users``: the users of each issue, one row per (issue, user), the user named by a
  hash of its Sentry user key (below), so these tables hold no name, address or id;
- ``group_tallies``: events, first and last seen of each issue per ``tag`` and ``value``:
  ``release`` (with the ``environment``; a missing release or environment is kept as
  ``''``), ``day`` (UTC, received) and ``server`` (``server_name``; ``''`` when none). One
  table keyed by issue first, so an event's three rows share a page: the counts cost a few
  pages per event written to the WAL, not one per table.

Users are counted as Sentry counts them (its ``user`` tag): the first of the event's
``user.id``, ``user.username``, ``user.email`` and ``user.ip_address`` that is set gives the
key ``id:...``, ``username:...``, ``email:...`` or ``ip:...``; events without one have no user.
``{{auto}}`` as the address (the SDK's request to fill in the sender's) counts as none: the
collector does not fill it in. Events are never deleted, so the counts only grow.

Migration 8 also drops ``events_group_received`` (of step 7): nothing reads it any more, and
each index is one more page written per event.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any, Dict, List, Optional

# -- version 8: the summary tables ------------------------------------------------------------
TABLES = """
CREATE TABLE IF NOT EXISTS group_counts (
    group_id INTEGER PRIMARY KEY, events INTEGER NOT NULL, users INTEGER NOT NULL,
    last_seen TEXT);
CREATE TABLE IF NOT EXISTS group_users (
    group_id INTEGER NOT NULL, user_hash TEXT NOT NULL,
    PRIMARY KEY (group_id, user_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_tallies (
    group_id INTEGER NOT NULL, tag TEXT NOT NULL, value TEXT NOT NULL,
    environment TEXT NOT NULL, events INTEGER NOT NULL, first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL, PRIMARY KEY (group_id, tag, value, environment)) WITHOUT ROWID;
DROP INDEX IF EXISTS events_group_received
"""
SUMMARIES = ("group_counts", "group_users", "group_tallies")
_USER_FIELDS = (("id", "id"), ("username", "username"), ("email", "email"), ("ip_address", "ip"))
SERVER_LIMIT = 200
BATCH = 2000
_TALLY = (
    "INSERT INTO group_tallies(group_id, tag, value, environment, events, first_seen, "
    "last_seen) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT(group_id, tag, value, environment) "
    "DO UPDATE SET events = events + 1, first_seen = MIN(first_seen, excluded.first_seen), "
    "last_seen = MAX(last_seen, excluded.last_seen)"
)


def user_key(user: Any) -> Optional[str]:
    """Sentry's ``user`` tag of an event's ``user`` object (``id:42``, ``email:a@b``, ...), or
    None when it names nobody."""
    if not isinstance(user, dict):
        return None
    for field, prefix in _USER_FIELDS:
        value = user.get(field)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        text = value if isinstance(value, str) else str(value)
        if text and not (field == "ip_address" and text == "{{auto}}"):
            return f"{prefix}:{text}"
    return None


def user_hash(user: Any) -> Optional[str]:
    """What ``group_users`` keeps of a user: 20 hex digits of the SHA-256 of its key."""
    key = user_key(user)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20] if key else None


def server_of(value: Any) -> str:
    """The server tally's key; cut at a NUL as SQLite's ``json_extract`` (the backfill) does."""
    return value.split("\x00", 1)[0][:SERVER_LIMIT] if isinstance(value, str) else ""


def record(
    c: sqlite3.Connection,
    group_id: int,
    event: Dict[str, Any],
    received: str,
    release: Optional[str],
    environment: Optional[str],
) -> None:
    """Add one event of issue ``group_id`` to the counts (inside the event's transaction)."""
    who = user_hash(event.get("user"))
    new_user = 0
    if who is not None:
        new_user = c.execute(
            "INSERT OR IGNORE INTO group_users(group_id, user_hash) VALUES (?, ?)", (group_id, who)
        ).rowcount
    c.execute(
        "INSERT INTO group_counts(group_id, events, users, last_seen) VALUES (?, 1, ?, ?) "
        "ON CONFLICT(group_id) DO UPDATE SET events = events + 1, users = users + excluded.users, "
        "last_seen = MAX(COALESCE(last_seen, ''), excluded.last_seen)",
        (group_id, new_user, received),
    )
    c.executemany(
        _TALLY,
        (
            (group_id, "release", release or "", environment or "", received, received),
            (group_id, "day", received[:10], "", received, received),
            (group_id, "server", server_of(event.get("server_name")), "", received, received),
        ),
    )


# -- the backfill (migration 8, and bench/page_data.py after writing events directly) ----------
_SERVER = (
    "CASE WHEN json_type(payload, '$.server_name') = 'text' THEN "
    f"substr(json_extract(payload, '$.server_name'), 1, {SERVER_LIMIT}) ELSE '' END"
)
_AGGREGATES = (
    "INSERT INTO group_counts(group_id, events, users, last_seen) SELECT group_id, COUNT(*), 0, "
    "MAX(received) FROM events WHERE group_id IS NOT NULL GROUP BY group_id",
    *(
        "INSERT INTO group_tallies(group_id, tag, value, environment, events, first_seen, "
        f"last_seen) SELECT group_id, '{tag}', {value}, {env}, COUNT(*), MIN(received), "
        "MAX(received) FROM events WHERE group_id IS NOT NULL GROUP BY 1, 3, 4"
        for tag, value, env in (
            ("release", "COALESCE(release, '')", "COALESCE(environment, '')"),
            ("day", "substr(received, 1, 10)", "''"),
            ("server", _SERVER, "''"),
        )
    ),
)


def _count_users(c: sqlite3.Connection) -> None:
    """Add the user of every grouped event with a user object to ``group_users``."""
    after = 0
    while True:
        rows: List[Any] = c.execute(
            "SELECT id, group_id, json_extract(payload, '$.user') FROM events WHERE id > ? "
            "AND group_id IS NOT NULL AND json_type(payload, '$.user') = 'object' "
            "ORDER BY id LIMIT ?",
            (after, BATCH),
        ).fetchall()
        pairs = [(row[1], user_hash(json.loads(row[2]))) for row in rows]
        c.executemany(
            "INSERT OR IGNORE INTO group_users(group_id, user_hash) VALUES (?, ?)",
            [p for p in pairs if p[1] is not None],
        )
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def rebuild(c: sqlite3.Connection) -> None:
    """Count every grouped event into the summary tables again, from nothing."""
    for table in SUMMARIES:
        c.execute(f"DELETE FROM {table}")  # table names from SUMMARIES
    for statement in _AGGREGATES:
        c.execute(statement)
    _count_users(c)
    c.execute(
        "UPDATE group_counts SET users = (SELECT COUNT(*) FROM group_users u "
        "WHERE u.group_id = group_counts.group_id)"
    )


def migrate_v8(c: sqlite3.Connection) -> None:
    """Schema step 8: the summary tables, filled from the events already stored."""
    for statement in TABLES.split(";"):
        c.execute(statement)
    rebuild(c)
