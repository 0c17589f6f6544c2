"""Resolve issues by commit message: ``Fixes WIDGETS-7`` in a commit of a release resolves
issue WIDGETS-7 in that release.

Keywords (any case): fix, fixes, fixed, close, closes, closed, resolve, resolves, resolved,
followed by a short ID (an optional ``:`` in between). A short ID naming another project than
the release's, or an issue that does not exist, is ignored and recorded with the reason
(``commit_issue_refs``), never an error. Runs on the caller's connection, inside the
transaction that stores the release's commits.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Dict, List, Optional, Tuple

from .grouping import RESOLVED, now_iso

KEYWORDS = ("fix", "fixes", "fixed", "close", "closes", "closed", "resolve", "resolves", "resolved")
_REF = re.compile(
    r"\b(?:" + "|".join(KEYWORDS) + r")\b:?\s+([A-Za-z0-9][A-Za-z0-9_.-]*-\d+)\b", re.IGNORECASE
)


def issue_refs(message: Optional[str]) -> List[str]:
    """The short IDs a commit message says it fixes, upper-cased, in order, without repeats."""
    out: List[str] = []
    for match in _REF.finditer(message or ""):
        ref = match.group(1).upper()
        if ref not in out:
            out.append(ref)
    return out


def _split(ref: str) -> Tuple[str, int]:
    prefix, _, num = ref.rpartition("-")
    return prefix, int(num)


def apply(c: sqlite3.Connection, release_id: int) -> List[Dict[str, Any]]:
    """Resolve the issues the release's commit messages name; record every reference with its
    outcome (``resolved`` or ``ignored`` and why). Returns the records."""
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
        for ref in issue_refs(message):
            prefix, num = _split(ref)
            project = projects.get(prefix)
            group = None
            if project is None:
                outcome, reason = "ignored", f"no project {prefix.lower()!r} on this collector"
            elif own and project[0] not in own:
                outcome, reason = (
                    "ignored",
                    (f"issue of project {project[1]!r}, which is not a project of this release"),
                )
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
