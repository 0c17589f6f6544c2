"""Celery beat tasks as cron monitors (``CeleryIntegration(monitor_beat_tasks=True)``).

The worker reports each run of a beat-scheduled task: ``in_progress`` when it starts, ``ok``
or ``error`` (with the duration) when it ends, under the monitor named after the schedule
entry and with the entry's schedule (crontab or interval) as the monitor config.

It works wherever init() runs, which is what sentry-sdk's users miss (sentry-python #2823):
the worker knows a beat task by the ``celery_beat_task`` header Celery's scheduler puts on it,
and finds its entry in the app's ``beat_schedule``, so a beat process without the SDK still
gets its runs reported. A beat process *with* the SDK also names the entry and its schedule
in the message headers (entries that live outside ``beat_schedule``, such as
django-celery-beat's, are then found too); with ``-B`` both sides are one process.
"""

from __future__ import annotations

import threading
import time

from ..current import get_client
from ..protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

SLUG_HEADER = "releasetag-monitor-slug"
CONFIG_HEADER = "releasetag-monitor-config"
_state: Dict[str, Any] = {"exclude": (), "installed": False}
_runs: Dict[Any, Tuple[str, str, float, Optional[Dict[str, Any]]]] = {}  # task id -> run
_local = threading.local()  # the beat entry being sent on this thread


def install(exclude: Any) -> None:
    """Report beat tasks from now on (idempotent); ``exclude``: entry or task names, or
    regular expressions matched against them, that are not reported."""
    import re

    _state["exclude"] = tuple(re.compile(p) for p in (exclude or ()))
    if _state["installed"]:
        return
    from celery import beat, signals

    original = beat.Scheduler.apply_async

    def apply_async(self: Any, entry: Any, *args: Any, **kwargs: Any) -> Any:
        _local.entry = (entry, self.app)
        try:
            return original(self, entry, *args, **kwargs)
        finally:
            _local.entry = None

    beat.Scheduler.apply_async = apply_async
    signals.before_task_publish.connect(_on_publish, weak=False)
    signals.task_prerun.connect(_on_prerun, weak=False)
    signals.task_postrun.connect(_on_postrun, weak=False)
    _state["installed"] = True


def _excluded(*names: Any) -> bool:
    return any(p.match(str(n)) for p in _state["exclude"] for n in names if n)


def monitor_config(schedule: Any, app: Any) -> Optional[Dict[str, Any]]:
    """A beat schedule as a ``monitor_config``: crontab or interval (None for others,
    such as solar schedules)."""
    from datetime import timedelta

    from celery.schedules import crontab
    from celery.schedules import schedule as interval

    if isinstance(schedule, (int, float, timedelta)) and not isinstance(schedule, bool):
        schedule = interval(schedule)  # as beat_schedule may hold it
    config: Dict[str, Any]
    if isinstance(schedule, crontab):
        fields = "_orig_minute _orig_hour _orig_day_of_month _orig_month_of_year _orig_day_of_week"
        value = " ".join(str(getattr(schedule, f, "*")) for f in fields.split())
        config = {"schedule": {"type": "crontab", "value": value}}
    elif type(schedule) is interval:
        seconds = max(60, int(schedule.run_every.total_seconds()))
        unit, size = next(
            (u, s)
            for u, s in (("day", 86400), ("hour", 3600), ("minute", 60))
            if seconds % s == 0 or s == 60
        )
        config = {"schedule": {"type": "interval", "value": seconds // size, "unit": unit}}
    else:
        return None
    tz = getattr(schedule, "tz", None) or getattr(app.conf, "timezone", None) or "UTC"
    config["timezone"] = str(tz)
    return config


def _on_publish(sender: Any = None, headers: Any = None, **_: Any) -> None:
    """Beat side (a beat process with the SDK, or ``-B``): name the entry and its schedule."""
    sending = getattr(_local, "entry", None)
    if sending is None or not isinstance(headers, dict):
        return
    try:
        entry, app = sending
        if _excluded(entry.name, entry.task):
            return
        headers[SLUG_HEADER] = str(entry.name)
        headers[CONFIG_HEADER] = monitor_config(entry.schedule, app)
    except Exception:
        internal_error("celery beat: naming the monitor failed")


def _header(request: Any, name: str) -> Any:
    fields = getattr(request, "__dict__", None) or {}
    if name in fields:
        return fields[name]
    nested = fields.get("headers")
    return nested.get(name) if isinstance(nested, dict) else None


def _entry_for(task: Any) -> Tuple[Optional[str], Optional[Dict[str, Any]]]:
    """Worker side: the monitor of a beat task run, from our headers or ``beat_schedule``."""
    request = getattr(task, "request", None)
    slug = _header(request, SLUG_HEADER)
    if slug:
        return str(slug), _header(request, CONFIG_HEADER)
    if not _header(request, "celery_beat_task"):
        return None, None
    app = task.app
    for name, entry in (app.conf.beat_schedule or {}).items():
        if isinstance(entry, dict) and entry.get("task") == task.name:
            return str(name), monitor_config(entry.get("schedule"), app)
    return None, None


def _on_prerun(sender: Any = None, task_id: Any = None, task: Any = None, **_: Any) -> None:
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        task = task or sender
        slug, config = _entry_for(task)
        if slug is None or _excluded(slug, getattr(task, "name", None)):
            return
        from ..crons import capture_checkin

        check_in_id = capture_checkin(
            monitor_slug=slug, status="in_progress", monitor_config=config
        )
        _runs[task_id] = (slug, check_in_id, time.perf_counter(), config)
    except Exception:
        internal_error("celery beat: the in_progress check-in failed")


def _on_postrun(sender: Any = None, task_id: Any = None, state: Any = None, **_: Any) -> None:
    run = _runs.pop(task_id, None)
    if run is None:
        return
    try:
        from ..crons import capture_checkin

        slug, check_in_id, start, config = run
        capture_checkin(
            monitor_slug=slug,
            check_in_id=check_in_id,
            status="ok" if state == "SUCCESS" else "error",
            duration=time.perf_counter() - start,
            monitor_config=config,
        )
    except Exception:
        internal_error("celery beat: the closing check-in failed")


def pending_runs() -> List[str]:
    """Slugs of runs started and not yet reported (for tests and diagnostics)."""
    return [run[0] for run in _runs.values()]
