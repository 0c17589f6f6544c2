"""Queries of the pages added for reading issues (``/issues/``, the issue page's counts over
time and tag distributions), and migration 7: the indexes those and the release pages read
through (every query of the pages uses an index; tests/collector/test_page_plans.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .filters import events_exist_clause

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

SORTS = {
    "last_seen": "(SELECT MAX(e.id) FROM events e WHERE e.group_id = g.id) DESC, g.id DESC",
    "first_seen": "g.first_seen DESC, g.id DESC",
    "events": "(SELECT COUNT(*) FROM events e WHERE e.group_id = g.id) DESC, g.id DESC",
}
SERVER_SAMPLE = 500  # the latest events of an issue its server distribution is read from


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
    """(day, n) of an issue's events received since ``since`` (ISO text), oldest first."""
    return store.query(
        "SELECT substr(received, 1, 10) AS day, COUNT(*) AS n FROM events "
        "WHERE group_id = ? AND received >= ? GROUP BY day ORDER BY day",
        (group_id, since),
    )


def server_counts(store: Any, group_id: int) -> List[Any]:
    """(value, n) of the servers of an issue's latest ``SERVER_SAMPLE`` events, largest first."""
    return store.query(
        "SELECT json_extract(payload, '$.server_name') AS value, COUNT(*) AS n FROM "
        "(SELECT payload FROM events WHERE group_id = ? ORDER BY id DESC LIMIT ?) "
        "GROUP BY value ORDER BY n DESC LIMIT 10",
        (group_id, SERVER_SAMPLE),
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
    """Events and last seen of the issues on one page of the stream, in one indexed query."""
    if not group_ids:
        return {}
    rows = store.query(
        "SELECT group_id, COUNT(*) AS n, MAX(received) AS last FROM events "
        "INDEXED BY events_group_received WHERE group_id IN ("
        + ",".join("?" * len(group_ids))
        + ") GROUP BY group_id",
        list(group_ids),
    )
    return {r["group_id"]: r for r in rows}
