"""Times on the command line (unix seconds or ISO 8601) and on the wire (RFC 3339, UTC, Z)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from releasetag.protocol.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def to_wire(dt: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, microseconds kept when present."""
    text = dt.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"


def now_wire(offset_seconds: float = 0.0) -> str:
    """Now (minus ``offset_seconds``) in wire format."""
    return to_wire(datetime.now(timezone.utc) - timedelta(seconds=offset_seconds))


def parse_time(value: str, flag: str) -> datetime:
    """Unix seconds (``1700000000``, ``1700000000.5``) or ISO 8601 (``2024-05-01T10:00:00Z``;
    no offset means UTC). A bad value is a usage error naming the flag."""
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"invalid time {value!r} for {flag}: use unix seconds or ISO 8601 "
            "like 2024-05-01T10:00:00Z"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def parse_time_opt(value: Optional[str], flag: str) -> Optional[datetime]:
    return None if value is None else parse_time(value, flag)


def now_iso() -> str:
    """Now in UTC as RFC 3339 with microseconds and a ``Z`` (the collector's stored times)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
