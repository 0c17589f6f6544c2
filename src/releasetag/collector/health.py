"""Release health figures from stored sessions: the Sessions API's totals and series, and
the ``healthData`` of releases (crash-free sessions and users, adoption, hourly counts).

Rates are fractions in the Sessions API (0.95) and percentages in ``healthData`` (95.0),
as Sentry answers them. A session is counted in the interval it *started* in; its outcome
is exclusive: crashed, abnormal, errored (errors but neither) or healthy.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from releasetag.protocol import session_fields as wire

from .db.store import Store

HOUR = 3600
DAY = 24 * HOUR
OUTCOMES = ("healthy", "errored", "crashed", "abnormal")  # the API's session.status values
_COUNTED = {"exited": "healthy", "errored": "errored", "crashed": "crashed", "abnormal": "abnormal"}


def iso(seconds: float) -> str:
    """Whole-second RFC 3339 UTC (the API's interval times)."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tally:
    """Session counts by outcome, and the users seen (all and crashed)."""

    __slots__ = ("counts", "users", "crashed_users")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.users: Set[str] = set()
        self.crashed_users: Set[str] = set()

    def add(self, outcome: str, n: int, did: Optional[str]) -> None:
        self.counts[outcome] += n
        if did:
            self.users.add(did)
            if outcome == "crashed":
                self.crashed_users.add(did)

    @property
    def sessions(self) -> int:
        return sum(self.counts.values())

    def crash_free_sessions(self) -> Optional[float]:
        total = self.sessions
        return None if total == 0 else 1.0 - self.counts["crashed"] / total

    def crash_rate(self) -> Optional[float]:
        total = self.sessions
        return None if total == 0 else self.counts["crashed"] / total

    def crash_free_users(self) -> Optional[float]:
        if not self.users:
            return None
        return 1.0 - len(self.crashed_users) / len(self.users)

    def field(self, name: str) -> Any:
        if name == wire.FIELD_SESSIONS:
            return self.sessions
        if name == wire.FIELD_USERS:
            return len(self.users)
        if name == wire.FIELD_CRASH_FREE_SESSIONS:
            return self.crash_free_sessions()
        if name == wire.FIELD_CRASH_FREE_USERS:
            return self.crash_free_users()
        if name == wire.FIELD_CRASH_RATE:
            return self.crash_rate()
        raise KeyError(name)


Contribution = Tuple[int, str, str, float, Optional[str], str, int]


def contributions(
    store: Store,
    start: float,
    end: float,
    project_ids: Optional[Sequence[int]] = None,
    releases: Optional[Sequence[str]] = None,
    environments: Optional[Sequence[str]] = None,
) -> Iterable[Contribution]:
    """(project_id, release, environment, started, did, outcome, n) of every stored session
    started in [start, end)."""
    singles, counted = store.session_rows(start, end, project_ids, releases, environments)
    for r in singles:
        yield (
            r["project_id"],
            r["release"],
            r["environment"],
            r["started"],
            r["did"],
            r["outcome"],
            r["n"],
        )
    for r in counted:
        for key, outcome in _COUNTED.items():
            if r[key]:
                yield (
                    r["project_id"],
                    r["release"],
                    r["environment"],
                    r["started"],
                    r["did"],
                    outcome,
                    r[key],
                )


class SessionsQuery:
    """What ``GET /organizations/{org}/sessions/`` asks for, checked."""

    def __init__(
        self,
        fields: Sequence[str],
        group_by: Sequence[str] = (),
        start: Optional[float] = None,
        end: Optional[float] = None,
        period: int = DAY,
        interval: int = HOUR,
        project_ids: Optional[Sequence[int]] = None,
        releases: Optional[Sequence[str]] = None,
        environments: Optional[Sequence[str]] = None,
        now: Optional[float] = None,
    ) -> None:
        if not fields:
            raise ValueError("at least one field is required, e.g. field=sum(session)")
        for name in fields:
            if name not in wire.FIELDS:
                raise ValueError(f"unknown field {name!r}: use one of {', '.join(wire.FIELDS)}")
        for name in group_by:
            if name not in wire.GROUP_BYS:
                raise ValueError(
                    f"unknown groupBy {name!r}: use one of {', '.join(wire.GROUP_BYS)}"
                )
        if "session.status" in group_by:
            rates = [f for f in fields if f not in (wire.FIELD_SESSIONS, wire.FIELD_USERS)]
            if rates:
                raise ValueError(f"{rates[0]} cannot be grouped by session.status")
        if interval < 60:
            raise ValueError("interval must be at least 1m")
        now = time.time() if now is None else now
        end = now if end is None else end
        start = end - period if start is None else start
        if start >= end:
            raise ValueError("start must be before end")
        self.start = math.floor(start / interval) * interval
        self.end = math.ceil(end / interval) * interval
        if (self.end - self.start) / interval > 10_000:
            raise ValueError("too many intervals: use a longer interval or a shorter period")
        self.fields = list(dict.fromkeys(fields))
        self.group_by = list(dict.fromkeys(group_by))
        self.interval = interval
        self.project_ids = project_ids
        self.releases = releases
        self.environments = environments

    @property
    def buckets(self) -> int:
        return int((self.end - self.start) // self.interval)


def _by(group_by: Sequence[str], c: Contribution) -> Tuple[Any, ...]:
    values = {
        "project": c[0],
        "release": c[1],
        "environment": c[2] or None,
        "session.status": c[5],
    }
    return tuple(values[name] for name in group_by)


def run_query(store: Store, q: SessionsQuery) -> Dict[str, Any]:
    """The Sessions API answer: start, end, intervals and one group per ``groupBy`` value."""
    groups: Dict[Tuple[Any, ...], Tuple[Tally, List[Tally]]] = {}
    for c in contributions(store, q.start, q.end, q.project_ids, q.releases, q.environments):
        key = _by(q.group_by, c)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = (Tally(), [Tally() for _ in range(q.buckets)])
        index = int((c[3] - q.start) // q.interval)
        entry[0].add(c[5], c[6], c[4])
        entry[1][index].add(c[5], c[6], c[4])
    if not q.group_by and not groups:
        groups[()] = (Tally(), [Tally() for _ in range(q.buckets)])
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        total, series = groups[key]
        out.append(
            {
                "by": dict(zip(q.group_by, key)),
                "totals": {f: total.field(f) for f in q.fields},
                "series": {f: [b.field(f) for b in series] for f in q.fields},
            }
        )
    return {
        "start": iso(q.start),
        "end": iso(q.end),
        "intervals": [iso(q.start + i * q.interval) for i in range(q.buckets)],
        "groups": out,
        "query": "",
    }


# --- healthData of releases ---------------------------------------------------------------
def _pct(rate: Optional[float]) -> Optional[float]:
    return None if rate is None else round(rate * 100.0, 4)


def _tally(items: Iterable[Contribution]) -> Tally:
    tally = Tally()
    for c in items:
        tally.add(c[5], c[6], c[4])
    return tally


def health_data(
    store: Store,
    release: str,
    project_id: int,
    environments: Optional[Sequence[str]] = None,
    summary_period: int = 14 * DAY,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Sentry's ``healthData`` of a release in one project (rates as percentages), with the
    hourly session counts of the last 24 h and the first and last session seen."""
    now = time.time() if now is None else now
    day_start = math.floor((now - DAY) / HOUR) * HOUR + HOUR
    projects = [project_id]
    mine = list(
        contributions(store, now - summary_period, now + 60, projects, [release], environments)
    )
    summary = _tally(mine)
    day = [c for c in mine if c[3] >= now - DAY]
    last24 = _tally(day)
    project24 = _tally(contributions(store, now - DAY, now + 60, projects, None, environments))
    hourly = [0] * 24
    for c in day:
        index = int((c[3] - day_start) // HOUR)
        if 0 <= index < 24:
            hourly[index] += c[6]
    seen = [r for r in store.first_and_last(release) if r["project_id"] == project_id]
    if environments is not None:
        seen = [r for r in seen if r["environment"] in environments]
    return {
        "hasHealthData": summary.sessions > 0,
        "totalSessions": summary.sessions,
        "totalSessions24h": last24.sessions,
        "totalProjectSessions24h": project24.sessions,
        "totalUsers": len(summary.users),
        "totalUsers24h": len(last24.users),
        "totalProjectUsers24h": len(project24.users),
        "sessionsCrashed": summary.counts["crashed"],
        "sessionsErrored": summary.counts["errored"],
        "sessionsAbnormal": summary.counts["abnormal"],
        "crashFreeSessions": _pct(summary.crash_free_sessions()),
        "crashFreeUsers": _pct(summary.crash_free_users()),
        "adoption": _pct(len(last24.users) / len(project24.users)) if project24.users else None,
        "sessionsAdoption": _pct(last24.sessions / project24.sessions)
        if project24.sessions
        else None,
        "durationP50": None,
        "durationP90": None,
        "stats": {"24h": [[int(day_start + i * HOUR), n] for i, n in enumerate(hourly)]},
        "firstSessionSeen": iso(min(r["first"] for r in seen)) if seen else None,
        "lastSessionSeen": iso(max(r["last"] for r in seen)) if seen else None,
    }


def has_health_data(store: Store, release: str, project_id: int) -> bool:
    return any(r["project_id"] == project_id for r in store.first_and_last(release))


def release_health(store: Store, release: str, now: Optional[float] = None) -> List[Dict[str, Any]]:
    """Per environment of ``release`` (all projects): sessions, crashed, errored, abnormal,
    crash-free session and user rates (fractions), adoption of the last 24 h (the share of
    the environment's sessions), first and last session seen; for pages and ``info``."""
    now = time.time() if now is None else now
    by_env: Dict[str, List[Contribution]] = {}
    for c in contributions(store, 0, now + 60, None, [release]):
        by_env.setdefault(c[2], []).append(c)
    seen = {r["environment"]: r for r in _merge_seen(store.first_and_last(release))}
    out = []
    for env in sorted(by_env):
        tally = _tally(by_env[env])
        mine24 = sum(c[6] for c in by_env[env] if c[3] >= now - DAY)
        env24 = _tally(contributions(store, now - DAY, now + 60, None, None, [env])).sessions
        row = seen.get(env)
        out.append(
            {
                "environment": env or None,
                "sessions": tally.sessions,
                "crashed": tally.counts["crashed"],
                "errored": tally.counts["errored"],
                "abnormal": tally.counts["abnormal"],
                "users": len(tally.users),
                "crash_free_sessions": tally.crash_free_sessions(),
                "crash_free_users": tally.crash_free_users(),
                "adoption": mine24 / env24 if env24 else None,
                "first_session": iso(row["first"]) if row else None,
                "last_session": iso(row["last"]) if row else None,
            }
        )
    return out


def _merge_seen(rows: Iterable[Any]) -> List[Dict[str, Any]]:
    merged: Dict[str, Dict[str, Any]] = {}
    for r in rows:
        m = merged.setdefault(
            r["environment"],
            {"environment": r["environment"], "first": r["first"], "last": r["last"]},
        )
        m["first"] = min(m["first"], r["first"])
        m["last"] = max(m["last"], r["last"])
    return list(merged.values())


def hourly_by_status(
    store: Store, release: str, hours: int = 24, now: Optional[float] = None
) -> Tuple[List[float], Dict[str, List[int]]]:
    """Sessions of ``release`` per hour and outcome over the last ``hours`` (for the chart):
    the hour starts, and per outcome a count per hour."""
    now = time.time() if now is None else now
    end = math.floor(now / HOUR) * HOUR + HOUR
    start = end - hours * HOUR
    series = {o: [0] * hours for o in OUTCOMES}
    for c in contributions(store, start, end, None, [release]):
        series[c[5]][int((c[3] - start) // HOUR)] += c[6]
    return [start + i * HOUR for i in range(hours)], series
