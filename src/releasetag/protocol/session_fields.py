"""The wire facts of release health (docs/protocol.md §4), shared by the SDK, the collector and
the CLI: session statuses, the outcome keys of aggregates and the Sessions API fields."""

from __future__ import annotations

import re
import time

#: every status a ``session`` item may carry; all but ``ok`` end the session
STATUSES = ("ok", "exited", "crashed", "abnormal", "errored")
FINAL_STATUSES = frozenset(("exited", "crashed", "abnormal"))
#: how final an end is: a later update never lowers it (crashed beats abnormal beats exited)
STATUS_RANK = {"ok": 0, "errored": 1, "exited": 2, "abnormal": 3, "crashed": 4}
#: the counters of one ``sessions`` aggregate, in this order everywhere
OUTCOMES = ("exited", "errored", "crashed", "abnormal")

#: Sessions API fields (``GET /api/0/organizations/{org}/sessions/?field=...``)
FIELD_SESSIONS = "sum(session)"
FIELD_USERS = "count_unique(user)"
FIELD_CRASH_FREE_SESSIONS = "crash_free_rate(session)"
FIELD_CRASH_FREE_USERS = "crash_free_rate(user)"
FIELD_CRASH_RATE = "crash_rate(session)"
FIELDS = (
    FIELD_SESSIONS,
    FIELD_USERS,
    FIELD_CRASH_FREE_SESSIONS,
    FIELD_CRASH_FREE_USERS,
    FIELD_CRASH_RATE,
)
GROUP_BYS = ("release", "environment", "project", "session.status")
#: ``session.status`` values of the Sessions API
API_STATUSES = ("healthy", "errored", "crashed", "abnormal")


def wire_time(seconds: float) -> str:
    """Unix seconds as RFC 3339 UTC with microseconds (the times of session payloads)."""
    whole = int(seconds)
    micros = int(round((seconds - whole) * 1_000_000))
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


_PERIOD = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_period(text: str, name: str = "statsPeriod") -> int:
    """``24h``, ``14d``, ``30m``, ``90s``, ``1w`` as seconds (ValueError naming ``name``)."""
    match = _PERIOD.match((text or "").strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"invalid {name} {text!r}: use a number and s, m, h, d or w (24h)")
    return int(match.group(1)) * _UNITS[match.group(2)]
