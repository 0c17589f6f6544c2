"""Monitor schedules on the wire: a ``monitor_config`` schedule is a crontab or an interval,
with an optional tz database timezone. The rules here say whether one is valid; the collector
computes expected runs from them (``releasetag.collector.monitor_rules``).

cronsim (a small, dependency-free, maintained crontab evaluator written for Healthchecks.io)
is imported only when a crontab is checked; ``zoneinfo`` (Python 3.9+) for timezones.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

INTERVAL_UNITS = ("year", "month", "week", "day", "hour", "minute")
MAX_TEXT = 200


def crontab_error(value: Any) -> Optional[str]:
    """Why ``value`` is not a crontab schedule; None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "a crontab is a non-empty string like '*/5 * * * *'"
    if len(value) > MAX_TEXT:
        return f"longer than {MAX_TEXT} characters"
    from datetime import datetime

    from cronsim import CronSim, CronSimError

    try:
        CronSim(value, datetime(2000, 1, 1))
    except CronSimError as exc:
        return str(exc) or "not a crontab"
    except Exception as exc:  # any other complaint of the parser is still a bad crontab
        return f"not a crontab ({type(exc).__name__})"
    return None


def timezone_error(value: Any) -> Optional[str]:
    """Why ``value`` is not a tz database name; None when it is one."""
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        return "a timezone is a tz database name like 'Europe/Vienna'"
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except Exception:  # ZoneInfoNotFoundError, ValueError for paths, OSError
        return "not a tz database name (like 'Europe/Vienna' or 'UTC')"
    return None


def schedule_error(schedule: Any) -> Optional[str]:
    """Why a ``monitor_config.schedule`` is invalid; None when it is valid."""
    if not isinstance(schedule, dict):
        return "schedule must be an object with type and value"
    kind = schedule.get("type")
    if kind == "crontab":
        reason = crontab_error(schedule.get("value"))
        return f"invalid crontab: {reason}" if reason else None
    if kind == "interval":
        value = schedule.get("value")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 10_000:
            return "interval value must be a whole number from 1 to 10000"
        if schedule.get("unit") not in INTERVAL_UNITS:
            return f"interval unit must be one of {', '.join(INTERVAL_UNITS)}"
        return None
    return "schedule type must be crontab or interval"


def config_error(config: Dict[str, Any]) -> Optional[str]:
    """Why a ``monitor_config`` is invalid (schedule, timezone, numbers); None when valid."""
    reason = schedule_error(config.get("schedule"))
    if reason:
        return reason
    if config.get("timezone") is not None:
        reason = timezone_error(config["timezone"])
        if reason:
            return f"invalid timezone: {reason}"
    for key in ("checkin_margin", "max_runtime", "failure_issue_threshold", "recovery_threshold"):
        value = config.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
            return f"{key} must be a whole number from 0 to 100000"
    return None
