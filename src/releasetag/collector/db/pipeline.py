"""What the collector knows of the release pipeline: which releases a pipeline made (and which
were only ever seen in events), rollback deploys, which release is newer than which, and the
rule that decides whether an event regresses an issue resolved in a release.

Schema version 6 (``V6``): ``releases.pipeline`` (1 once a Web API client created or changed
the release; 0 for a release only events or sessions brought) and ``deploys.rollback_from``
(the version of the release last deployed to that environment, when this deploy went back to
an older one; kept as text, a record of what happened).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Dict, List, Optional, Tuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .database import Database

V6 = """
ALTER TABLE releases ADD COLUMN pipeline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deploys ADD COLUMN rollback_from TEXT;
UPDATE releases SET pipeline = 1 WHERE date_released IS NOT NULL OR url IS NOT NULL
    OR ref IS NOT NULL OR id IN (SELECT release_id FROM deploys)
    OR id IN (SELECT release_id FROM release_commits)
    OR id IN (SELECT release_id FROM artifacts WHERE release_id IS NOT NULL);
CREATE INDEX IF NOT EXISTS deploys_environment ON deploys(environment, id)
"""

_SEMVER = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")
VersionKey = Tuple[Tuple[int, int, int, int], int, str]


def version_key(version: str) -> Optional[Tuple[str, VersionKey]]:
    """``(package, key)`` of ``package@1.2.3[-pre][+build]``; None when it does not parse. A
    pre-release sorts before its release; build metadata is ignored."""
    package, sep, rest = version.rpartition("@")
    if not sep or not package:
        return None
    m = _SEMVER.match(rest.lstrip("v"))
    if not m:
        return None
    nums = tuple(int(g or 0) for g in m.groups()[:4])
    pre = m.group(5)
    return package, ((nums[0], nums[1], nums[2], nums[3]), 0 if pre else 1, pre or "")


def compare(c: sqlite3.Connection, a: int, b: int) -> int:
    """-1, 0 or 1 as release ``a`` is older than, the same as, or newer than ``b``: by
    version when both parse as ``package@version`` of one package, else by creation order."""
    if a == b:
        return 0
    rows = {
        r[0]: r[1] for r in c.execute("SELECT id, version FROM releases WHERE id IN (?, ?)", (a, b))
    }
    ka, kb = version_key(rows.get(a, "")), version_key(rows.get(b, ""))
    if ka and kb and ka[0] == kb[0] and ka[1] != kb[1]:
        return -1 if ka[1] < kb[1] else 1
    return -1 if a < b else 1


def reopens(
    c: sqlite3.Connection,
    kind: Optional[str],
    resolved_release_id: Optional[int],
    event_release_id: Optional[int],
    environment: Optional[str],
) -> bool:
    """Whether an event reopens a resolved issue.

    Resolved without a release: any event. Resolved in release N (by hand or by a commit):
    only an event of N or a newer release; resolved in the release after N: only a newer one.
    And when the event's environment has deploys, only if N or a newer release was deployed
    there (an older release still running in another environment, or after a rollback, is
    counted but does not regress it). An event without a release never does."""
    if resolved_release_id is None or kind not in ("inRelease", "inNextRelease", "inCommit"):
        return True
    if event_release_id is None:
        return False
    order = compare(c, event_release_id, resolved_release_id)
    if order < 0 or (order == 0 and kind == "inNextRelease"):
        return False
    deployed = [
        r[0]
        for r in c.execute(
            "SELECT DISTINCT release_id FROM deploys WHERE environment = ?", (environment or "",)
        )
    ]
    return not deployed or any(compare(c, rid, resolved_release_id) >= 0 for rid in deployed)


def record_deploy(c: sqlite3.Connection, deploy_id: int) -> None:
    """Mark deploy ``deploy_id`` as a rollback when its release is older than the release
    last deployed to the same environment."""
    row = c.execute(
        "SELECT release_id, environment FROM deploys WHERE id = ?", (deploy_id,)
    ).fetchone()
    if row is None:
        return
    before = c.execute(
        "SELECT d.release_id, r.version FROM deploys d JOIN releases r ON r.id = d.release_id "
        "WHERE d.environment = ? AND d.id < ? ORDER BY d.id DESC LIMIT 1",
        (row[1], deploy_id),
    ).fetchone()
    if before is not None and compare(c, row[0], before[0]) < 0:
        c.execute("UPDATE deploys SET rollback_from = ? WHERE id = ?", (before[1], deploy_id))


def mark_pipeline(c: sqlite3.Connection, version: str) -> None:
    c.execute("UPDATE releases SET pipeline = 1 WHERE version = ?", (version,))


def deploy_row(store: Database, deploy_id: int) -> Any:
    return store.query_row("SELECT * FROM deploys WHERE id = ?", (deploy_id,))


MAX_JS_EVENTS = 200  # the newest JS events of a release checked for unmatched debug IDs


def release_marks(store: Database, release_id: int, version: str) -> Dict[str, Any]:
    """What the release page and API show of a release's pipeline: ``seenOnlyInEvents`` (no
    Web API client ever created or changed it, yet events name it), ``jsEventsChecked`` and
    ``jsEventsWithoutArtifacts`` (of the newest JS events, those with a debug ID that is on
    no uploaded artifact), ``rollbacks`` (its deploys that went back from a newer release)."""
    row = store.query_one(
        "SELECT pipeline OR EXISTS (SELECT 1 FROM artifacts WHERE release_id = ?) "
        "FROM releases WHERE id = ?",
        (release_id, release_id),
    )
    has_events = store.query_one("SELECT 1 FROM events WHERE release = ? LIMIT 1", (version,))
    unmatched, checked = 0, 0
    for (payload,) in store.query(
        "SELECT payload FROM events WHERE release = ? AND platform IN ('javascript', 'node') "
        "ORDER BY id DESC LIMIT ?",
        (version, MAX_JS_EVENTS),
    ):
        ids = _debug_ids(payload)
        if not ids:
            continue
        checked += 1
        marks = ",".join("?" * len(ids))
        known = store.query_row(
            f"SELECT COUNT(DISTINCT debug_id) FROM artifacts WHERE debug_id IN ({marks})", ids
        )[0]
        if known < len(ids):
            unmatched += 1
    rollbacks: List[Dict[str, Any]] = [
        {"environment": r[0], "from": r[1], "date": r[2]}
        for r in store.query(
            "SELECT environment, rollback_from, date_finished FROM deploys "
            "WHERE release_id = ? AND rollback_from IS NOT NULL ORDER BY id",
            (release_id,),
        )
    ]
    return {
        "seenOnlyInEvents": bool(row is not None and not row[0] and has_events),
        "jsEventsChecked": checked,
        "jsEventsWithoutArtifacts": unmatched,
        "rollbacks": rollbacks,
    }


def _debug_ids(payload: str) -> List[str]:
    try:
        event = json.loads(payload)
        images = (event.get("debug_meta") or {}).get("images") or []
    except (ValueError, AttributeError):
        return []
    out = []
    for image in images:
        if isinstance(image, dict) and image.get("type") == "sourcemap" and image.get("debug_id"):
            ident = str(image["debug_id"]).lower()
            if ident not in out:
                out.append(ident)
    return out[:100]
