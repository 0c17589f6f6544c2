"""SQL filters the issue queries share (the Web API's and the pages')."""

from __future__ import annotations

from typing import Any, Dict, List

#: ORDER BY of the issue sorts (issues ``g``), each read through an index: last seen, first
#: seen, events, users (the counts from ``group_counts``, db/issue_counts.py)
ISSUE_SORTS: Dict[str, str] = {
    "last_seen": "(SELECT MAX(e.id) FROM events e WHERE e.group_id = g.id) DESC, g.id DESC",
    "first_seen": "g.first_seen DESC, g.id DESC",
    "events": "(SELECT c.events FROM group_counts c WHERE c.group_id = g.id) DESC, g.id DESC",
    "users": "(SELECT c.users FROM group_counts c WHERE c.group_id = g.id) DESC, g.id DESC",
}


def events_exist_clause(release: Any, environment: Any, params: List[Any]) -> str:
    """`` AND EXISTS (...)``: only groups (``g``) with an event of ``release`` and
    ``environment`` (either may be None: not filtered); appends the parameters. Empty when
    neither is given."""
    if release is None and environment is None:
        return ""
    sub = "SELECT 1 FROM events e WHERE e.group_id = g.id"
    if release is not None:
        sub += " AND e.release = ?"
        params.append(release)
    if environment is not None:
        sub += " AND e.environment = ?"
        params.append(environment)
    return f" AND EXISTS ({sub})"
