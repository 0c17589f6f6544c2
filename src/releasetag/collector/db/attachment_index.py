"""Schema step 3: event pages list an event's attachments through an index on their event;
and the read of one attachment's bytes for its download."""

from __future__ import annotations

import sqlite3
from typing import Any, Optional

V3 = """
CREATE INDEX IF NOT EXISTS attachments_event ON attachments(event_id, id);
"""


def attachment_file(store: Any, event_id: str, attachment_id: int) -> Optional[sqlite3.Row]:
    """(filename, data) of one attachment of the event, or None."""
    row: Optional[sqlite3.Row] = store.query_one(
        "SELECT filename, data FROM attachments WHERE event_id = ? AND id = ?",
        (event_id.replace("-", "").lower(), attachment_id),
    )
    return row
