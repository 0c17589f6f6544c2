"""The SQL of deploy notifications: who was (or would have been) mailed about a deploy."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List, Sequence

from releasetag.protocol.timefmt import now_iso

from .database import Database


def record(c: sqlite3.Connection, deploy_id: int, records: Sequence[Dict[str, Any]]) -> None:
    """Keep the outcome (``name``, ``email``, ``status``, ``detail``) of each notification
    (inside the caller's transaction)."""
    now = now_iso()
    c.executemany(
        "INSERT INTO deploy_notifications(deploy_id, name, email, status, detail, date) "
        "VALUES (?,?,?,?,?,?)",
        [(deploy_id, r["name"], r["email"], r["status"], r["detail"], now) for r in records],
    )


class NotificationsQueries(Database):
    """Deploy notification records (``Store`` methods)."""

    def record_notifications(self, deploy_id: int, records: Sequence[Dict[str, Any]]) -> None:
        """Keep the outcome of each notification of a stored deploy."""
        with self.write() as c:
            record(c, deploy_id, records)

    def deploy_notifications(self, deploy_ids: Sequence[int]) -> Dict[int, List[Dict[str, Any]]]:
        """The recorded notifications of the deploys (oldest first), by deploy id."""
        out: Dict[int, List[Dict[str, Any]]] = {d: [] for d in deploy_ids}
        if not deploy_ids:
            return out
        rows = self.query(
            "SELECT deploy_id, name, email, status, detail, date FROM deploy_notifications "
            f"WHERE deploy_id IN ({','.join('?' * len(deploy_ids))}) ORDER BY id",
            list(deploy_ids),
        )
        for r in rows:
            item = dict(r)
            out[item.pop("deploy_id")].append(item)
        return out
