"""The SQL of cron monitors: monitors, their check-ins and the run counts that judge them.

- ``monitors``: one row per (project, slug), made or updated by a check-in's
  ``monitor_config``; ``next_expected`` is when the next run is due (from the schedule and
  the last check-in), ``failures`` / ``successes`` the current streaks, ``group_id`` the issue
  opened for it.
- ``check_ins``: one row per run, keyed by (monitor, check_in_id). A run counts once, when it
  first reaches a final status (``ok``, ``error``, ``missed``, ``timeout``); later updates of
  a final run (duplicates, out-of-order ``in_progress``, a second final status) change nothing.

Schema version 5 (``monitors_schema.V5``), registered in ``schema.MIGRATIONS``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List, Optional, Sequence

from releasetag.protocol.timefmt import now_iso

from .database import Database

Row = sqlite3.Row
FINAL = ("ok", "error", "missed", "timeout")
FAILED = ("error", "missed", "timeout")


def upsert_monitor(
    c: sqlite3.Connection, project_id: int, slug: str, config: Optional[Dict[str, Any]]
) -> Optional[Row]:
    """The monitor row, made or updated from ``config``; None when unknown and no config."""
    now = now_iso()
    row = c.execute(
        "SELECT * FROM monitors WHERE project_id = ? AND slug = ?", (project_id, slug)
    ).fetchone()
    if config is None:
        return row
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    if row is None:
        c.execute(
            "INSERT INTO monitors(project_id, slug, config, date_created, date_updated) "
            "VALUES (?,?,?,?,?)",
            (project_id, slug, text, now, now),
        )
    elif row["config"] != text:
        c.execute(
            "UPDATE monitors SET config = ?, date_updated = ?, next_expected = NULL WHERE id = ?",
            (text, now, row["id"]),
        )
    return c.execute(
        "SELECT * FROM monitors WHERE project_id = ? AND slug = ?", (project_id, slug)
    ).fetchone()


def record_check_in(c: sqlite3.Connection, monitor: Row, ci: Dict[str, Any]) -> Optional[str]:
    """Store one check-in of ``monitor``; the final status it gave a run for the first time
    (the run to count), else None."""
    now = ci.get("received") or now_iso()
    old = c.execute(
        "SELECT * FROM check_ins WHERE monitor_id = ? AND check_in_id = ?",
        (monitor["id"], ci["check_in_id"]),
    ).fetchone()
    if old is None:
        c.execute(
            "INSERT INTO check_ins(monitor_id, check_in_id, status, release, environment, "
            "duration, trace_id, date_added, date_updated, expected) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                monitor["id"],
                ci["check_in_id"],
                ci["status"],
                ci.get("release"),
                ci.get("environment"),
                ci.get("duration"),
                ci.get("trace_id"),
                now,
                now,
                ci.get("expected"),
            ),
        )
        counted = ci["status"] if ci["status"] in FINAL else None
    elif old["status"] in FINAL or ci["status"] not in FINAL:
        return None  # a run already judged, or a repeated in_progress: kept as it was
    else:
        c.execute(
            "UPDATE check_ins SET status = ?, duration = COALESCE(?, duration), "
            "release = COALESCE(?, release), date_updated = ? WHERE id = ?",
            (ci["status"], ci.get("duration"), ci.get("release"), now, old["id"]),
        )
        counted = ci["status"]
    c.execute(
        "UPDATE monitors SET last_check_in = ?, last_status = ?, "
        "last_release = COALESCE(?, last_release), "
        "last_environment = COALESCE(?, last_environment) WHERE id = ?",
        (now, ci["status"], ci.get("release"), ci.get("environment"), monitor["id"]),
    )
    if counted is not None:
        count_run(c, monitor["id"], counted)
    return counted


def count_run(c: sqlite3.Connection, monitor_id: int, status: str) -> None:
    """A run reached ``status``: extend the failure or the success streak."""
    if status in FAILED:
        c.execute(
            "UPDATE monitors SET failures = failures + 1, successes = 0 WHERE id = ?",
            (monitor_id,),
        )
    else:
        c.execute(
            "UPDATE monitors SET successes = successes + 1, failures = 0 WHERE id = ?",
            (monitor_id,),
        )


class MonitorsQueries(Database):
    """``Store`` methods for monitors and check-ins."""

    def monitors(self, project_id: Optional[int] = None) -> List[Row]:
        if project_id is None:
            return self.query("SELECT * FROM monitors ORDER BY slug")
        return self.query(
            "SELECT * FROM monitors WHERE project_id = ? ORDER BY slug", (project_id,)
        )

    def monitor(self, monitor_id: int) -> Optional[Row]:
        return self.query_one("SELECT * FROM monitors WHERE id = ?", (monitor_id,))

    def recent_check_ins(self, monitor_id: int, limit: int = 30) -> List[Row]:
        return self.query(
            "SELECT * FROM check_ins WHERE monitor_id = ? ORDER BY COALESCE(expected, date_added) "
            "DESC, id DESC LIMIT ?",
            (monitor_id, limit),
        )

    def release_check_ins(self, release: str, limit: int = 200) -> List[Row]:
        return self.query(
            "SELECT ci.*, m.slug FROM check_ins ci JOIN monitors m ON m.id = ci.monitor_id "
            "WHERE ci.release = ? ORDER BY ci.date_added DESC, ci.id DESC LIMIT ?",
            (release, limit),
        )

    def open_check_ins(self) -> List[Row]:
        return self.query(
            "SELECT ci.*, m.config FROM check_ins ci JOIN monitors m ON m.id = ci.monitor_id "
            "WHERE ci.status = 'in_progress'"
        )

    def set_monitor_fields(self, monitor_id: int, **values: Any) -> None:
        names = sorted(values)
        allowed = {"next_expected", "group_id"}
        assert set(names) <= allowed
        with self.write() as c:
            c.execute(
                f"UPDATE monitors SET {', '.join(n + ' = ?' for n in names)} WHERE id = ?",
                (*[values[n] for n in names], monitor_id),
            )

    def store_check_ins(
        self, project_id: int, check_ins: Sequence[Dict[str, Any]]
    ) -> List[Dict[str, Any]]:
        """Store validated check-ins (each with its ``monitor_config`` or None); what each
        did: ``{"monitor_id", "counted"}``, or ``{"rejected": reason}``."""

        def work(c: sqlite3.Connection) -> List[Dict[str, Any]]:
            out: List[Dict[str, Any]] = []
            for ci in check_ins:
                monitor = upsert_monitor(c, project_id, ci["monitor_slug"], ci.get("config"))
                if monitor is None:
                    out.append(
                        {
                            "rejected": f"unknown monitor {ci['monitor_slug']!r} and no "
                            "monitor_config to create it"
                        }
                    )
                    continue
                counted = record_check_in(c, monitor, ci)
                out.append({"monitor_id": monitor["id"], "counted": counted})
            return out

        with self.write() as c:
            return work(c)

    def judge_run(
        self, monitor_id: int, status: str, expected: str, check_in_id: str, release: Any
    ) -> bool:
        """Record a run the collector judged (``missed`` at ``expected``, or ``timeout`` of an
        open check-in); False when it was already judged (never counted twice)."""
        with self.write() as c:
            monitor = c.execute("SELECT * FROM monitors WHERE id = ?", (monitor_id,)).fetchone()
            if monitor is None:
                return False
            ci = {
                "check_in_id": check_in_id,
                "status": status,
                "release": release,
                "expected": expected,
            }
            return record_check_in(c, monitor, ci) is not None
