"""Judging cron monitors: expected runs from the schedule, missed and timed-out runs, and the
issue a failing monitor opens (and its recovery resolves).

- The next run is due at the schedule's next time after the monitor's last check-in (or its
  creation); crontabs through cronsim in the monitor's timezone (``zoneinfo``, UTC by default),
  intervals counted from the last check-in.
- *Missed*: no check-in by due time + ``checkin_margin`` minutes (default 1): a ``missed`` run
  is recorded at the due time, and the next due time follows from it.
- *Timed out*: an ``in_progress`` check-in older than ``max_runtime`` minutes (default 30).
- A failing run (``error``, ``missed``, ``timeout``) once the failure streak reaches
  ``failure_issue_threshold`` (default 1) adds an event to the monitor's issue (fingerprint
  ``monitor:<slug>``, the release of its last check-in); the issue is resolved when the success
  streak reaches ``recovery_threshold`` (default 1), and reopened by the next failing streak.

``MonitorWatch`` runs the judge in the serve process every ``interval`` seconds, and once at
start, which catches up on what was due while the collector was down (at most
``MAX_CATCH_UP`` missed runs a monitor per pass, the oldest first).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from releasetag.protocol.envelope import EnvelopeError, Item

from .db.store import Store
from .grouping import RESOLVED, UNRESOLVED
from .monitor_intake import Rejected, check_in_from

log = logging.getLogger("releasetag.collector")

DEFAULT_MARGIN_MIN = 1
DEFAULT_MAX_RUNTIME_MIN = 30
MAX_CATCH_UP = 500
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def take_check_ins(
    store: Store, project_id: int, items: Iterable[Tuple[int, Item]]
) -> List[Dict[str, Any]]:
    """Check and store an envelope's check-ins; the refused ones as ``rejected`` entries."""
    rejected: List[Dict[str, Any]] = []
    good: List[Tuple[int, Dict[str, Any]]] = []
    for number, item in items:
        try:
            if len(item.payload) > 64 * 1024:
                raise Rejected("check_in payload is over 65536 bytes")
            try:
                payload = item.json()
            except EnvelopeError as exc:
                raise Rejected(str(exc)) from None
            good.append((number, check_in_from(payload)))
        except Rejected as exc:
            rejected.append({"item": number, "type": "check_in", "reason": str(exc)})
    if not good:
        return rejected
    results = store.store_check_ins(project_id, [ci for _, ci in good])
    for (number, ci), result in zip(good, results):
        if "rejected" in result:
            rejected.append({"item": number, "type": "check_in", "reason": result["rejected"]})
            continue
        try:
            after_check_in(store, result["monitor_id"], ci, result["counted"])
        except Exception:  # judging must not lose the stored check-in
            log.exception("judging a check-in of %r failed", ci["monitor_slug"])
    return rejected


def config_of(monitor: Any) -> Dict[str, Any]:
    try:
        config = json.loads(monitor["config"] or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def _minutes(config: Dict[str, Any], key: str, default: int) -> timedelta:
    value = config.get(key)
    return timedelta(minutes=value if isinstance(value, int) and value >= 0 else default)


def next_run(config: Dict[str, Any], after: datetime) -> Optional[datetime]:
    """The schedule's first time after ``after`` (aware, UTC); None without a schedule."""
    schedule = config.get("schedule")
    if not isinstance(schedule, dict):
        return None
    if schedule.get("type") == "interval":
        unit, value = schedule.get("unit"), schedule.get("value")
        if not isinstance(value, int) or value <= 0:
            return None
        if unit in ("month", "year"):
            step = timedelta(days=value * (30 if unit == "month" else 365))
        else:
            step = timedelta(seconds=value * _UNIT_SECONDS.get(str(unit), 60))
        return after + step
    if schedule.get("type") != "crontab":
        return None
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    try:
        zone = ZoneInfo(config.get("timezone") or "UTC")
        start = after.astimezone(zone).replace(second=0, microsecond=0)
        return next(iter(CronSim(str(schedule.get("value")), start))).astimezone(timezone.utc)
    except Exception:  # stored before validation, or a schedule with no next time
        return None


def to_iso(value: Optional[datetime]) -> Optional[str]:
    """A time as the collector stores it (RFC 3339, UTC, microseconds, ``Z``)."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def after_check_in(
    store: Store, monitor_id: int, ci: Dict[str, Any], counted: Optional[str]
) -> None:
    """A check-in arrived: a new run moves the due time on; a counted run may open or resolve
    the monitor's issue."""
    monitor = store.monitor(monitor_id)
    if monitor is None:
        return
    received = _parse(ci.get("received")) or datetime.now(timezone.utc)
    if ci["status"] == "in_progress" or counted is not None:
        due = next_run(config_of(monitor), received)
        store.set_monitor_fields(monitor_id, next_expected=to_iso(due) if due else None)
    if counted is not None:
        judge_issue(store, monitor_id, counted, received)


def judge_issue(store: Store, monitor_id: int, counted: str, when: datetime) -> None:
    """Open or update the monitor's issue on a failing streak; resolve it on recovery."""
    monitor = store.monitor(monitor_id)
    if monitor is None:
        return
    config = config_of(monitor)
    threshold = max(1, int(config.get("failure_issue_threshold") or 1))
    recovery = max(1, int(config.get("recovery_threshold") or 1))
    group_id = monitor["group_id"]
    if counted in ("error", "missed", "timeout") and monitor["failures"] >= threshold:
        group_id = _failure_event(store, monitor, counted, when)
    elif counted == "ok" and group_id and monitor["successes"] >= recovery:
        group = store.group_by_id(group_id)
        if group is not None and group["status"] != RESOLVED:
            store.set_status(group_id, (RESOLVED, "monitor_recovered", None, None, to_iso(when)))


def _failure_event(store: Store, monitor: Any, counted: str, when: datetime) -> Optional[int]:
    import os

    what = {"error": "failed", "missed": "missed a run", "timeout": "timed out"}[counted]
    event_id = os.urandom(16).hex()
    release = monitor["last_release"]
    message = f"Cron monitor {monitor['slug']} {what}"
    event = {
        "event_id": event_id,
        "timestamp": to_iso(when),
        "level": "error",
        "platform": "other",
        "release": release,
        "environment": monitor["last_environment"],
        "message": message,
        "fingerprint": ["monitor", monitor["slug"]],
        "tags": {"monitor.slug": monitor["slug"], "monitor.status": counted},
        "contexts": {"monitor": {"slug": monitor["slug"], "status": counted}},
    }
    summary = {
        "event_id": event_id,
        "timestamp": to_iso(when),
        "level": "error",
        "platform": "other",
        "release": release,
        "environment": monitor["last_environment"],
        "dist": None,
        "title": message,
        "message": message,
        "exception_type": None,
        "exception_value": None,
        "culprit": f"monitor:{monitor['slug']}",
    }
    from releasetag.protocol.release import release_name_error

    valid = bool(release) and release_name_error(release) is None
    store.insert_event(monitor["project_id"], event, summary, release_valid=valid)
    row = store.event(event_id)
    group_id = int(row["group_id"]) if row is not None and row["group_id"] else None
    if group_id is not None:
        store.set_monitor_fields(monitor["id"], group_id=group_id)
        group = store.group_by_id(group_id)
        if group is not None and group["status"] == RESOLVED:
            store.set_status(group_id, (UNRESOLVED, None, None, None, None))
    return group_id


def judge(store: Store, now: Optional[datetime] = None) -> int:
    """Record every missed and timed-out run up to ``now``; how many were recorded."""
    now = now or datetime.now(timezone.utc)
    recorded = 0
    for row in store.open_check_ins():
        config = config_of(row)
        started = _parse(row["date_added"])
        limit = _minutes(config, "max_runtime", DEFAULT_MAX_RUNTIME_MIN)
        if started is not None and started + limit < now:
            if store.judge_run(
                row["monitor_id"], "timeout", row["date_added"], row["check_in_id"], row["release"]
            ):
                recorded += 1
                judge_issue(store, row["monitor_id"], "timeout", now)
    for monitor in store.monitors():
        recorded += _missed_runs(store, monitor, now)
    return recorded


def _missed_runs(store: Store, monitor: Any, now: datetime) -> int:
    config = config_of(monitor)
    margin = _minutes(config, "checkin_margin", DEFAULT_MARGIN_MIN)
    due = _parse(monitor["next_expected"])
    if due is None:
        start = _parse(monitor["last_check_in"]) or _parse(monitor["date_created"])
        due = next_run(config, start) if start is not None else None
        if due is None:
            return 0
        store.set_monitor_fields(monitor["id"], next_expected=to_iso(due))
    recorded = 0
    while due is not None and due + margin < now and recorded < MAX_CATCH_UP:
        expected = to_iso(due) or ""
        if store.judge_run(
            monitor["id"], "missed", expected, "missed-" + expected, monitor["last_release"]
        ):
            recorded += 1
            judge_issue(store, monitor["id"], "missed", due)
        due = next_run(config, due)
        store.set_monitor_fields(monitor["id"], next_expected=to_iso(due) if due else None)
    return recorded


class MonitorWatch:
    """The background judge of a serve process: once at start (catch-up), then every
    ``interval`` seconds until stopped."""

    def __init__(self, store: Store, interval: float = 30.0) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="releasetag-monitors", daemon=True)

    def start(self) -> "MonitorWatch":
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                judge(self.store)
            except Exception:
                log.exception("judging cron monitors failed")
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
