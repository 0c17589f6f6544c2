"""Checks a ``check_in`` item before it is stored: what is kept of an odd one, and why one is
refused (the rest of its envelope is kept either way).

- ``check_in_id``: 32 hex digits (a UUID with or without dashes), required;
- ``monitor_slug``: 1-64 characters, no control characters, required;
- ``status``: ``in_progress``, ``ok`` or ``error``;
- ``duration``: seconds; negative, not a number or above a year: not kept (null), the
  check-in still is;
- ``monitor_config``: checked whole (schedule, timezone, numbers): a bad one refuses the item.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional

from releasetag.protocol.schedule import config_error
from releasetag.protocol.timefmt import now_iso

STATUSES = ("in_progress", "ok", "error")
MAX_DURATION = 366 * 24 * 3600.0
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_SLUG_BAD = re.compile(r"[\x00-\x1f\x7f]")


class Rejected(ValueError):
    """The check-in is refused; the message is the reason returned to the client."""


def _text(value: Any, limit: int) -> Optional[str]:
    if value is None:
        return None
    return str(value)[:limit]


def check_in_from(payload: Any) -> Dict[str, Any]:
    """The check-in to store, from an item's payload (``Rejected`` with the reason)."""
    if not isinstance(payload, dict):
        raise Rejected("check_in payload must be a JSON object")
    raw_id = payload.get("check_in_id")
    check_in_id = raw_id.replace("-", "").lower() if isinstance(raw_id, str) else ""
    if not _HEX32.match(check_in_id):
        raise Rejected("check_in_id must be 32 hexadecimal digits (a UUID)")
    slug = payload.get("monitor_slug")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > 64 or _SLUG_BAD.search(slug):
        raise Rejected("monitor_slug must be 1 to 64 characters without control characters")
    status = payload.get("status")
    if status not in STATUSES:
        raise Rejected(f"status must be one of {', '.join(STATUSES)}")
    config = payload.get("monitor_config")
    if config is not None:
        if not isinstance(config, dict):
            raise Rejected("monitor_config must be a JSON object")
        reason = config_error(config)
        if reason:
            raise Rejected(f"monitor_config: {reason}")
    trace = (
        (payload.get("contexts") or {}).get("trace")
        if isinstance(payload.get("contexts"), dict)
        else None
    )
    return {
        "check_in_id": check_in_id,
        "monitor_slug": slug.strip(),
        "status": status,
        "duration": _duration(payload.get("duration")),
        "release": _text(payload.get("release"), 250) or None,
        "environment": _text(payload.get("environment"), 250) or None,
        "trace_id": _text(trace.get("trace_id"), 32) if isinstance(trace, dict) else None,
        "config": config,
        "received": now_iso(),
    }


def _duration(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if math.isnan(number) or number < 0 or number > MAX_DURATION:
        return None
    return number
