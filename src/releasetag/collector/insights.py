"""What releases tell: issue lookups and filters, suspect commits and the suggested assignee,
per-release reports (new issues, regressions, resolutions), and status changes from the API.

Suspect commits of an issue: the commits of the release it was first seen in, and of the
releases created since its last resolution (up to the last release it was seen in), whose
patch sets touch a file of the issue's in-app frames (paths match on a suffix at a ``/``
boundary, so ``app/shop.py`` matches a frame in ``/srv/app/shop.py`` and a frame
``shop.py`` matches a change to ``src/shop.py``). They are ranked by the number of frames
touched, then closeness to the frame that raised (a commit touching the crashing function's
file beats one touching only the script that called it), then recency (later release, then
newer commit). The top commit's author is the
suggested assignee unless someone was assigned by hand.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List, Optional, Set, Tuple

from releasetag.protocol.errors import InputError
from releasetag.protocol.timefmt import now_iso

from .db.store import Store
from .grouping import IGNORED, REGRESSED, RESOLVED, UNRESOLVED, in_app_frames, short_id


class InsightError(InputError):
    """A request that cannot be carried out; the message is one line for people."""


Issue = Dict[str, Any]


# -- lookups -----------------------------------------------------------------------------------
def hydrate(store: Store, row: Optional[sqlite3.Row]) -> Optional[Issue]:
    """An issue row as a dict with what is read from its events: ``times_seen``,
    ``user_count``, ``last_seen``, ``last_event_id`` and ``last_release_id`` (from the counts
    ingest keeps, db/issue_counts.py)."""
    if row is None:
        return None
    data = dict(row)
    stats = store.group_event_stats(row["id"])
    data.update(
        times_seen=stats["times_seen"],
        user_count=stats["user_count"],
        last_seen=stats["last_seen"] or row["first_seen"],
        last_event_id=stats["last_event_id"] or row["first_event_id"],
        last_release_id=stats["last_release_id"] or row["first_release_id"],
    )
    return data


def group(store: Store, ref: str) -> Optional[Issue]:
    """An issue by numeric id or short ID (``WIDGETS-7``, any case)."""
    text = (ref or "").strip()
    if text.isdigit():
        return hydrate(store, store.group_by_id(int(text)))
    prefix, _, num = text.upper().rpartition("-")
    if not prefix or not num.isdigit():
        return None
    return hydrate(store, store.group_by_short_id(prefix, int(num)))


def short_id_of(store: Store, row: Issue) -> str:
    project = store.project(row["project_id"])
    return short_id(project["slug"] if project else "PROJECT", row["short_num"])


def release_version(store: Store, release_id: Optional[int]) -> Optional[str]:
    if not release_id:
        return None
    return store.release_version(release_id)


def issues(
    store: Store,
    project_id: int,
    *,
    status: Optional[str] = None,
    release: Optional[str] = None,
    environment: Optional[str] = None,
    first_release: Optional[str] = None,
    text: Optional[str] = None,
    limit: int = 100,
    sort: str = "last_seen",
) -> List[Issue]:
    """Issues of a project, most recently seen first (or by ``sort``: first_seen, events,
    users), filtered like Sentry's issue search.

    ``status``: unresolved (includes regressed), resolved or regressed. ``release`` and
    ``environment``: issues with events in that release / environment. An unknown release
    matches nothing."""
    if status == "unresolved":
        statuses: Tuple[str, ...] = (UNRESOLVED, REGRESSED)
    else:
        statuses = (status,) if status else ()
    rows = store.search_groups(
        project_id,
        statuses=statuses,
        release=release,
        environment=environment,
        first_release=first_release,
        text=text,
        limit=limit,
        sort=sort,
    )
    return [issue for issue in (hydrate(store, r) for r in rows) if issue is not None]


def group_events(
    store: Store, group_id: int, limit: int = 100, offset: int = 0
) -> List[sqlite3.Row]:
    return store.group_events(group_id, limit, offset)


def group_releases(store: Store, group_id: int) -> List[Dict[str, Any]]:
    """(release, environment, count, first/last seen) rows of an issue, in release order."""
    return store.group_releases(group_id)


def regressions(store: Store, group_id: int) -> List[Dict[str, Any]]:
    rows = store.group_regressions(group_id)
    return [
        dict(
            r,
            release=release_version(store, r["release_id"]),
            resolved_release=release_version(store, r["resolved_release_id"]),
        )
        for r in rows
    ]


# -- suspect commits ---------------------------------------------------------------------------
def _norm(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def path_matches(frame_path: str, commit_path: str) -> bool:
    """True when one path ends with the other at a ``/`` boundary."""
    a, b = _norm(frame_path), _norm(commit_path)
    if not a or not b:
        return False
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _frame_paths(store: Store, row: Issue) -> List[Tuple[str, ...]]:
    """Distinct in-app frames of the issue's first and latest events (oldest call first, the
    raising frame last), as their path options."""
    seen: Set[Tuple[str, ...]] = set()
    out: List[Tuple[str, ...]] = []
    for event_id in dict.fromkeys([row["last_event_id"], row["first_event_id"]]):
        payload = store.event_payload(event_id)
        if payload is None:
            continue
        for f in in_app_frames(json.loads(payload)):
            paths = tuple(
                p
                for p in (f.get("abs_path"), f.get("filename"))
                if isinstance(p, str) and p and not p.startswith("<")
            )
            key = (paths[0] if paths else "", str(f.get("function")))
            if paths and key not in seen:
                seen.add(key)
                out.append(paths)
    return out


def candidate_releases(store: Store, row: Issue) -> List[int]:
    """The first release of an issue and the releases since its last resolution."""
    ids: List[int] = []
    if row["first_release_id"]:
        ids.append(row["first_release_id"])
    last_resolution = row["resolved_release_id"]
    if last_resolution is None:
        last_resolution = store.last_resolution_release(row["id"])
    if last_resolution is not None:
        upper = max(row["last_release_id"] or 0, last_resolution)
        for release_id in store.release_ids_between(last_resolution, upper):
            if release_id not in ids:
                ids.append(release_id)
    return ids


def suspect_commits(store: Store, row: Issue, limit: int = 5) -> List[Dict[str, Any]]:
    """Ranked suspect commits of an issue: commit fields, its release, the files it touched
    that are in the trace, and how many frames they cover."""
    frames = _frame_paths(store, row)
    releases = candidate_releases(store, row)
    if not frames or not releases:
        return []
    found: Dict[int, Dict[str, Any]] = {}
    for commit in store.commits_of_releases(releases):
        files = commit.pop("paths")
        touched = [
            i
            for i, paths in enumerate(frames)
            if any(path_matches(p, f) for p in paths for f in files)
        ]
        if not touched:
            continue
        matched = sorted(
            {f for f in files for i in touched if any(path_matches(p, f) for p in frames[i])}
        )
        item = found.get(commit["id"])
        if item is None or commit["release_id"] > item["release_id"]:
            found[commit["id"]] = dict(
                commit,
                files=matched,
                frames_touched=len(touched),
                crash_distance=len(frames) - 1 - max(touched),
            )
    ranked = sorted(
        found.values(),
        key=lambda c: (-c["frames_touched"], c["crash_distance"], -c["release_id"], c["ord"]),
    )
    return ranked[:limit]


def assignee(
    store: Store, row: Issue, suspects: Optional[List[Dict[str, Any]]] = None
) -> Optional[Dict[str, Any]]:
    """Who should look at the issue: the person assigned by hand, else the top suspect
    commit's author. ``source`` says which."""
    if row["assignee_email"] or row["assignee_name"]:
        return {
            "name": row["assignee_name"] or row["assignee_email"],
            "email": row["assignee_email"],
            "source": "assigned",
        }
    suspects = suspect_commits(store, row) if suspects is None else suspects
    for commit in suspects:
        if commit.get("author_email") or commit.get("author_name"):
            return {
                "name": commit.get("author_name") or commit.get("author_email"),
                "email": commit.get("author_email"),
                "source": "suspect commit",
                "commit": commit["key"],
            }
    return None


# -- per release -------------------------------------------------------------------------------
def release_report(
    store: Store, release: sqlite3.Row, environment: Optional[str] = None
) -> Dict[str, Any]:
    """New issues (first seen in the release), regressions (reopened by an event of it),
    issues resolved in it, event and issue counts per environment and the issue references
    of its commit messages."""
    rows = store.release_issue_rows(release["id"], release["version"], environment)
    return {
        "new": [hydrate(store, r) for r in rows["new"]],
        "regressed": [hydrate(store, r) for r in rows["regressed"]],
        "resolved": [hydrate(store, r) for r in rows["resolved"]],
        "counts": [dict(c) for c in rows["counts"]],
        "refs": [dict(r) for r in rows["refs"]],
    }


def new_issue_count(store: Store, release_id: int) -> int:
    return store.new_issue_count(release_id)


# -- status changes ----------------------------------------------------------------------------
def update_status(store: Store, row: Issue, status: str, details: Dict[str, Any]) -> None:
    """Resolve (now, in a release, in the next release) or reopen an issue.

    Raises InsightError for an unknown status or release."""
    now = now_iso()
    if status == "resolvedInNextRelease":
        status, details = "resolved", dict(details, inNextRelease=True)
    values: Tuple[Any, ...]
    if status == "unresolved":
        values = (UNRESOLVED, None, None, None, None)
    elif status in ("ignored", "muted"):
        values = (IGNORED, None, None, "api", now)
    elif status == "resolved":
        in_release = details.get("inRelease")
        if in_release is not None:
            if not isinstance(in_release, str):
                raise InsightError("statusDetails.inRelease must be a release version")
            rel = store.release(in_release)
            if rel is None:
                raise InsightError(f"release {in_release!r} does not exist")
            values = (RESOLVED, "inRelease", rel["id"], "api", now)
        elif details.get("inNextRelease"):
            latest = store.latest_release_id(row["project_id"])
            if latest is None:
                values = (RESOLVED, None, None, "api", now)
            else:
                values = (RESOLVED, "inNextRelease", latest, "api", now)
        else:
            values = (RESOLVED, None, None, "api", now)
    else:
        raise InsightError(
            f"status {status!r} is not supported (use resolved, unresolved, "
            "resolvedInNextRelease or ignored)"
        )
    store.set_status(row["id"], values)


def assign(store: Store, row: Issue, who: Optional[str]) -> None:
    """Assign an issue to a person (``Name <email>``, an email or a name); None/"" clears."""
    name = email = None
    if who:
        who = who.strip()
        if "<" in who and who.endswith(">"):
            name, _, email = who[:-1].partition("<")
            name, email = name.strip() or None, email.strip()
        elif "@" in who:
            email = who
        else:
            name = who
    store.set_assignee(row["id"], name, email)


def resolution(store: Store, row: Issue) -> Optional[Dict[str, Any]]:
    """How a resolved issue was resolved: kind, release, by whom, when; None otherwise."""
    if row["status"] != RESOLVED:
        return None
    return {
        "kind": row["resolved_kind"] or "now",
        "release": release_version(store, row["resolved_release_id"]),
        "by": row["resolved_by"],
        "at": row["resolved_at"],
    }
