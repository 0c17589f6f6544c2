"""The SQL of deploy notifications: who was (or would have been) mailed about a deploy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Sequence

from releasetag.protocol.timefmt import now_iso

if TYPE_CHECKING:
    from .store import Store


def record(store: Store, deploy_id: int, records: Sequence[Dict[str, Any]]) -> None:
    """Keep the outcome (``name``, ``email``, ``status``, ``detail``) of each notification."""
    with store.write() as c:
        for r in records:
            c.execute(
                "INSERT INTO deploy_notifications(deploy_id, name, email, status, detail, "
                "date) VALUES (?,?,?,?,?,?)",
                (deploy_id, r["name"], r["email"], r["status"], r["detail"], now_iso()),
            )


def of_deploy(store: Store, deploy_id: int) -> List[Dict[str, Any]]:
    """The recorded notifications of one deploy, oldest first."""
    rows = store.query(
        "SELECT name, email, status, detail, date FROM deploy_notifications "
        "WHERE deploy_id = ? ORDER BY id",
        (deploy_id,),
    )
    return [dict(r) for r in rows]
