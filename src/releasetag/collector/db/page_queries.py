"""Queries of the pages added for reading issues (``/issues/``, the issue page's counts over
time and tag distributions), and migration 7: the indexes those and the release pages read
through (every query of the pages uses an index; tests/collector/test_page_plans.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .filters import ISSUE_SORTS, events_exist_clause

# -- version 7: indexes of the pages ----------------------------------------------------------
V7 = """
CREATE INDEX IF NOT EXISTS events_release_only ON events(release, environment, group_id);
CREATE INDEX IF NOT EXISTS events_project_release ON events(project_id, release);
CREATE INDEX IF NOT EXISTS events_project ON events(project_id);
CREATE INDEX IF NOT EXISTS events_group_received ON events(group_id, received);
CREATE INDEX IF NOT EXISTS groups_project_level ON groups(project_id, level);
CREATE INDEX IF NOT EXISTS groups_project_status ON groups(project_id, status);
CREATE INDEX IF NOT EXISTS groups_first_release ON groups(first_release_id);
CREATE INDEX IF NOT EXISTS groups_resolved_release ON groups(resolved_release_id, status);
CREATE INDEX IF NOT EXISTS group_regressions_release ON group_regressions(release_id);
CREATE INDEX IF NOT EXISTS events_group_release ON events(group_id, release, environment, received);
"""

SORTS = ISSUE_SORTS  # last_seen, first_seen, events, users


def _stream_where(
    project_id: int,
    statuses: Sequence[str],
    filters: Dict[str, Optional[str]],
) -> Tuple[str, List[Any]]:
    sql = " FROM groups g WHERE g.project_id = ?"
    params: List[Any] = [project_id]
    if statuses:
        sql += " AND g.status IN (" + ",".join("?" * len(statuses)) + ")"
        params += list(statuses)
    release, environment = filters.get("release"), filters.get("environment")
    sql += events_exist_clause(release, environment, params)
    if filters.get("level"):
        sql += " AND g.level = ?"
        params.append(filters["level"])
    if filters.get("first_release") is not None:
        sql += " AND g.first_release_id = (SELECT id FROM releases WHERE version = ?)"
        params.append(filters["first_release"])
    if filters.get("text"):
        sql += " AND (instr(lower(g.title), lower(?)) > 0 OR instr(lower(g.culprit), lower(?)) > 0)"
        params += [filters["text"], filters["text"]]
    return sql, params


def issue_stream(
    store: Any,
    project_id: int,
    statuses: Sequence[str],
    filters: Dict[str, Optional[str]],
    sort: str,
    limit: int,
    offset: int,
) -> Tuple[List[Any], int]:
    """One page of a project's issues, filtered and sorted (``SORTS``), and how many match."""
    where, params = _stream_where(project_id, statuses, filters)
    total = store.query_row("SELECT COUNT(*) AS n" + where, params)["n"]
    rows = store.query(
        "SELECT g.*"
        + where
        + " ORDER BY "
        + SORTS.get(sort, SORTS["last_seen"])
        + " LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return rows, int(total)


def daily_counts(store: Any, group_id: int, since: str) -> List[Any]:
    """(day, n) of an issue's events received since ``since`` (ISO date), oldest first."""
    return store.query(
        "SELECT value AS day, events AS n FROM group_tallies WHERE group_id = ? AND tag = 'day' "
        "AND value >= ? ORDER BY value",
        (group_id, since[:10]),
    )


def server_counts(store: Any, group_id: int) -> List[Any]:
    """(value, n) of the servers of all an issue's events, the 10 largest first."""
    return store.query(
        "SELECT value, events AS n FROM group_tallies WHERE group_id = ? AND tag = 'server' "
        "ORDER BY n DESC, value LIMIT 10",
        (group_id,),
    )


def latest_event(store: Any, group_id: int) -> Optional[Any]:
    return store.query_one(
        "SELECT * FROM events WHERE group_id = ? ORDER BY id DESC LIMIT 1", (group_id,)
    )


def release_names(store: Any, limit: int = 200) -> List[str]:
    """The newest release versions (for the stream's release filter suggestions)."""
    rows = store.query(
        "SELECT version FROM releases ORDER BY date_created DESC, id DESC LIMIT ?", (limit,)
    )
    return [r["version"] for r in rows]


def environments(store: Any) -> List[str]:
    """The environments events were sent from (read through an index, distinct)."""
    rows = store.query(
        "SELECT DISTINCT environment FROM events INDEXED BY events_release_only "
        "WHERE environment IS NOT NULL ORDER BY environment LIMIT 100"
    )
    return [r["environment"] for r in rows]


def stream_stats(store: Any, group_ids: Sequence[int]) -> Dict[int, Any]:
    """Events, users and last seen of the issues on one page of the stream, in one query."""
    if not group_ids:
        return {}
    rows = store.query(
        "SELECT group_id, events AS n, users, last_seen AS last FROM group_counts "
        "WHERE group_id IN (" + ",".join("?" * len(group_ids)) + ")",
        list(group_ids),
    )
    return {r["group_id"]: r for r in rows}
