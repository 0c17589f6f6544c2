"""Checks ``session`` and ``sessions`` envelope items before they are stored.

A bad item is rejected alone, with a one-line reason the ingest answer names and the store
counts; the other items of the envelope are kept. Times may be RFC 3339 text or unix
seconds, as Relay accepts them.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from releasetag.protocol.release import release_name_error
from releasetag.protocol.session_fields import OUTCOMES, STATUSES

MAX_FUTURE = 300.0  # seconds of clock skew tolerated for a start "in the future"
MAX_AGGREGATES = 10_000  # buckets in one ``sessions`` item
MAX_ID = 128  # characters of sid and did


class Rejected(ValueError):
    """The item cannot be stored; the message says why."""


def _time(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise Rejected(f"{name} is missing")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise Rejected(f"{name} is not a time: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            from datetime import timezone

            parsed = parsed.replace(tzinfo=timezone.utc)
        seconds = parsed.timestamp()
    else:
        raise Rejected(f"{name} is not a time")
    if seconds != seconds or not 0 <= seconds < 1e11:
        raise Rejected(f"{name} is out of range")
    return seconds


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Rejected(f"{name} must be a non-negative integer")
    if value > 2**53:
        raise Rejected(f"{name} is too large")
    return value


def _attrs(payload: Dict[str, Any]) -> Tuple[str, str]:
    attrs = payload.get("attrs")
    if not isinstance(attrs, dict):
        raise Rejected("attrs with a release is missing")
    release = attrs.get("release")
    if not isinstance(release, str) or not release:
        raise Rejected("attrs.release is missing")
    problem = release_name_error(release)
    if problem:
        raise Rejected(f"attrs.release is not a valid release name: {problem}")
    environment = attrs.get("environment")
    if environment is None:
        environment = ""
    if not isinstance(environment, str) or len(environment) > 256:
        raise Rejected("attrs.environment must be a string of at most 256 characters")
    return release, environment


def _id(value: Any, name: str, required: bool) -> Optional[str]:
    if value is None or value == "":
        if required:
            raise Rejected(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Rejected(f"{name} must be a string")
    text = str(value)
    if len(text) > MAX_ID:
        raise Rejected(f"{name} is longer than {MAX_ID} characters")
    return text


def session_update(payload: Any, now: Optional[float] = None) -> Dict[str, Any]:
    """A ``session`` item as a row for ``db.sessions`` (Rejected when it is not valid)."""
    if not isinstance(payload, dict):
        raise Rejected("payload must be a JSON object")
    now = time.time() if now is None else now
    sid = _id(payload.get("sid"), "sid", True)
    status = payload.get("status", "ok")
    if status not in STATUSES:
        raise Rejected(f"unknown status {str(status)[:40]!r}")
    started = _time(payload.get("started"), "started")
    timestamp = (
        _time(payload.get("timestamp"), "timestamp")
        if payload.get("timestamp") is not None
        else started
    )
    if started > now + MAX_FUTURE:
        raise Rejected("started is in the future")
    if started > timestamp:
        raise Rejected("started is after timestamp")
    duration = payload.get("duration")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise Rejected("duration must be a number")
        if not math.isfinite(duration):
            raise Rejected("duration is not a finite number")
        if duration < 0:
            raise Rejected("duration is negative")
    seq = payload.get("seq", 0)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or seq > 2**63 - 1:
        raise Rejected("seq must be a non-negative integer")
    release, environment = _attrs(payload)
    return {
        "sid": sid,
        "did": _id(payload.get("did"), "did", False),
        "release": release,
        "environment": environment,
        "started": started,
        "timestamp": timestamp,
        "duration": None if duration is None else float(duration),
        "seq": seq,
        "errors": _count(payload.get("errors"), "errors"),
        "status": status,
    }


def session_counts(payload: Any, now: Optional[float] = None) -> List[Dict[str, Any]]:
    """A ``sessions`` item as rows for ``db.sessions`` (Rejected when any part is invalid)."""
    if not isinstance(payload, dict):
        raise Rejected("payload must be a JSON object")
    now = time.time() if now is None else now
    release, environment = _attrs(payload)
    aggregates = payload.get("aggregates")
    if not isinstance(aggregates, list):
        raise Rejected("aggregates must be a list")
    if len(aggregates) > MAX_AGGREGATES:
        raise Rejected(f"more than {MAX_AGGREGATES} aggregates")
    rows = []
    for n, bucket in enumerate(aggregates):
        if not isinstance(bucket, dict):
            raise Rejected(f"aggregates[{n}] must be an object")
        try:
            started = _time(bucket.get("started"), "started")
            if started > now + MAX_FUTURE:
                raise Rejected("started is in the future")
            row: Dict[str, Any] = {o: _count(bucket.get(o), o) for o in OUTCOMES}
            did = _id(bucket.get("did"), "did", False)
        except Rejected as exc:
            raise Rejected(f"aggregates[{n}]: {exc}") from None
        row.update(
            release=release,
            environment=environment,
            started=int(started // 60 * 60),
            did=did or "",
        )
        rows.append(row)
    return rows
