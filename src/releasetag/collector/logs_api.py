"""``GET /api/0/organizations/{org}/events/?dataset=logs``: stored logs in the shape Sentry's
Explore API answers and ``sentry-cli logs list`` reads (``{"data": [...], "meta": ...}``),
and ``GET /api/0/organizations/{org}/releases/{version}/metrics/``: a release's trace metric
aggregates.

Parameters: ``field`` (repeated: ``sentry.item_id``, ``trace``, ``severity``, ``timestamp``,
``message``, ``release``, ``environment``, ``logger``, ``span_id``, ``severity_number``,
``project``, or any attribute name), ``query`` (``key:value`` tokens for project, release,
environment, severity or level, logger, trace; other words are searched in the bodies, all
must occur), ``per_page`` (1..1000, 100), ``cursor`` (``0:OFFSET:0``, from the ``Link``
header), ``statsPeriod`` (90d) or ``start``/``end``, ``sort`` (``-timestamp``, the only
order).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from releasetag.collector.db.logs import LogFilter
from releasetag.protocol.errors import UsageError
from releasetag.protocol.session_fields import parse_period
from releasetag.protocol.timefmt import parse_time

from .context import Context, require_org
from .request_response import HTTPError, Request, Response, json_response

_TOKEN = re.compile(r'([\w.-]+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)')
_KEYS = {
    "project": "project",
    "release": "release",
    "sentry.release": "release",
    "environment": "environment",
    "sentry.environment": "environment",
    "severity": "level",
    "level": "level",
    "sentry.severity_text": "level",
    "logger": "logger",
    "logger.name": "logger",
    "trace": "trace_id",
    "trace_id": "trace_id",
    "message": "text",
}
_LEVEL_NAMES = {"warning": "warn", "critical": "fatal"}


def iso(timestamp: float) -> str:
    """A log's time as sentry-cli shows it (``2026-01-02T03:04:05.123456+00:00``)."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()


def _columns() -> Dict[str, Callable[[Any], Any]]:
    return {
        "sentry.item_id": lambda r: r["item_id"],
        "id": lambda r: r["item_id"],
        "trace": lambda r: r["trace_id"],
        "span_id": lambda r: r["span_id"],
        "severity": lambda r: r["level"],
        "severity_number": lambda r: r["severity_number"],
        "timestamp": lambda r: iso(r["timestamp"]),
        "message": lambda r: r["body"],
        "release": lambda r: r["release"],
        "environment": lambda r: r["environment"],
        "logger": lambda r: r["logger"],
    }


COLUMNS = _columns()


def parse_query(text: str) -> Dict[str, str]:
    """``key:value`` filters and free text (``text``) of a logs query; 400 when unknown."""
    out: Dict[str, str] = {}
    words: List[str] = []
    for key, quoted, plain, phrase, bare in _TOKEN.findall(text or ""):
        if not key:
            words.append(phrase or bare)
            continue
        name = _KEYS.get(key.lower())
        if name is None:
            raise HTTPError(
                400,
                f"unsupported query key {key!r}: use project, release, environment, "
                "severity, logger, trace or free text",
            )
        value = quoted or plain
        if name == "text":
            words.append(value)
        else:
            out[name] = _LEVEL_NAMES.get(value.lower(), value.lower()) if name == "level" else value
    if words:
        out["text"] = " ".join(words)
    return out


def _window(req: Request) -> Tuple[Optional[float], Optional[float]]:
    try:
        start = req.query.get("start")
        end = req.query.get("end")
        if start or end:
            return (
                parse_time(start, "start").timestamp() if start else None,
                parse_time(end, "end").timestamp() if end else None,
            )
        period = parse_period(req.query.get("statsPeriod") or "90d")
    except (UsageError, ValueError) as exc:
        raise HTTPError(400, str(getattr(exc, "message", exc))) from None
    return time.time() - period, None


def _int(req: Request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(req.query.get(name) or default)
    except ValueError:
        raise HTTPError(400, f"{name} must be a number") from None
    return min(max(value, low), high)


def _offset(req: Request) -> int:
    cursor = req.query.get("cursor") or "0:0:0"
    parts = cursor.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        raise HTTPError(400, f"invalid cursor {cursor!r}")
    return int(parts[1])


def log_filter(ctx: Context, query: Dict[str, str], req: Request) -> LogFilter:
    """The store filter of a parsed query and the request's time window."""
    project_id = None
    if "project" in query:
        row = ctx.store.project(query["project"])
        if row is None:
            raise HTTPError(400, f"unknown project {query['project']!r}")
        project_id = row["id"]
    since, until = _window(req)
    return LogFilter(
        project_id=project_id,
        release=query.get("release"),
        environment=query.get("environment"),
        level=query.get("level"),
        logger=query.get("logger"),
        trace_id=query.get("trace_id"),
        text=query.get("text", ""),
        since=since,
        until=until,
    )


def _value(row: Any, field: str, attrs: Dict[str, Any]) -> Any:
    if field in COLUMNS:
        return COLUMNS[field](row)
    if field == "project":
        return str(row["project_id"])
    attr = attrs.get(field)
    return attr.get("value") if isinstance(attr, dict) else None


def events(ctx: Context, req: Request, org: str) -> Response:
    require_org(ctx, org)
    if req.query.get("dataset") not in ("logs", "ourlogs"):
        raise HTTPError(400, "this collector answers organization events for dataset=logs only")
    sort = req.query.get("sort") or "-timestamp"
    if sort != "-timestamp":
        raise HTTPError(400, f"unsupported sort {sort!r}: logs are listed by -timestamp")
    fields = req.query_all("field") or ["sentry.item_id", "timestamp", "severity", "message"]
    limit = _int(req, "per_page", 100, 1, 1000)
    offset = _offset(req)
    flt = log_filter(ctx, parse_query(req.query.get("query", "")), req)
    rows = ctx.store.find_logs(flt, limit + 1, offset)
    more, rows = len(rows) > limit, rows[:limit]
    data = []
    for row in rows:
        attrs = json.loads(row["attributes"]) if not set(fields) <= set(COLUMNS) else {}
        data.append({f: _value(row, f, attrs) for f in fields})
    meta = {"fields": {f: "date" if f == "timestamp" else "string" for f in fields}}
    params = [(k, v) for k in req.query for v in req.query_all(k) if k != "cursor"]
    base = f"/api/0/organizations/{org}/events/?{urlencode(params)}"
    links = [
        f'<{base}&cursor=0:{max(offset - limit, 0)}:1>; rel="previous"; '
        f'results="{str(offset > 0).lower()}"; cursor="0:{max(offset - limit, 0)}:1"',
        f'<{base}&cursor=0:{offset + limit}:0>; rel="next"; '
        f'results="{str(more).lower()}"; cursor="0:{offset + limit}:0"',
    ]
    return json_response({"data": data, "meta": meta}, headers=[("Link", ", ".join(links))])


def release_metrics(ctx: Context, req: Request, org: str, version: str) -> Response:
    """A release's trace metric aggregates (by name, type, unit and environment)."""
    require_org(ctx, org)
    rows = ctx.store.metric_aggregates(version)
    return json_response(
        [
            {
                "name": r["name"],
                "type": r["type"],
                "unit": r["unit"] or None,
                "environment": r["environment"] or None,
                "count": r["count"],
                "sum": r["sum"],
                "min": r["min"],
                "max": r["max"],
                "last": r["last"],
                "avg": r["sum"] / r["count"] if r["count"] else None,
            }
            for r in rows
        ]
    )


_O = r"/api/0/organizations/(?P<org>[^/]+)"
ROUTES = [
    ("GET", _O + r"/events/", events),
    ("GET", _O + r"/releases/(?P<version>[^/]+)/metrics/", release_metrics),
]
