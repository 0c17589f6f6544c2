"""The collector's log pages: ``/logs/`` (filters: release, environment, level, logger, text;
newest first, a page at a time), the release page's card of log counts by level and metric
aggregates, and the event page's card of the logs of the event's trace up to the error."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List
from urllib.parse import quote

from releasetag.collector.db.logs import LogFilter

from .context import Context
from .html import Html, html, join
from .log_intake import LEVELS
from .pages import code, muted, page, page_number, pager, table
from .request_response import Request, Response

PER_PAGE = 50
FILTERS = ("release", "environment", "level", "logger", "q")


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _level(level: str) -> Html:
    css = {"warn": "warning", "fatal": "fatal", "error": "error"}.get(level, "")
    return html('<span class="level-{}">{}</span>', Html(css), level)


def _trace(trace_id: Any) -> Any:
    if not trace_id:
        return ""
    return html('<a href="/logs/?trace={}"><code>{}</code></a>', trace_id, trace_id[:8])


def log_rows(rows: List[Any], with_release: bool = True) -> List[List[Any]]:
    out = []
    for r in rows:
        row: List[Any] = [when(r["timestamp"]), _level(r["level"]), r["logger"] or ""]
        if with_release:
            row.append(r["release"] or "")
        row += [r["body"], _trace(r["trace_id"])]
        out.append(row)
    return out


def _form(values: Dict[str, str]) -> Html:
    level_options = join(
        html(
            '<option value="{}"{}>{}</option>',
            lv,
            Html(" selected" if values.get("level") == lv else ""),
            lv or "any level",
        )
        for lv in ("",) + LEVELS
    )
    inputs = join(
        html(
            '<label>{} <input name="{}" value="{}" size=14></label> ',
            name if name != "q" else "text",
            name,
            values.get(name, ""),
        )
        for name in ("release", "environment", "logger", "q")
    )
    return html(
        '<form method=get action="/logs/">{}<select name=level>{}</select> '
        "<button>Filter</button></form>",
        inputs,
        level_options,
    )


def logs_page(ctx: Context, req: Request) -> Response:
    """``/logs/``."""
    values = {k: req.query.get(k, "").strip() for k in FILTERS + ("trace",)}
    flt = LogFilter(
        release=values["release"] or None,
        environment=values["environment"] or None,
        level=values["level"] or None,
        logger=values["logger"] or None,
        trace_id=values["trace"] or None,
        text=values["q"],
    )
    store = ctx.store
    number = page_number(req)
    total = store.count_logs(flt)
    rows = store.find_logs(flt, PER_PAGE, (number - 1) * PER_PAGE)
    note = Html("")
    if store.logs_search_kind() != "fts5":
        note = muted("(this SQLite has no FTS5: text search scans every body)")
    body = html(
        "<h2>Logs</h2>{}{}{}{}",
        _form(values),
        note,
        table(
            ["time (UTC)", "level", "logger", "release", "message", "trace"],
            log_rows(rows),
            "no logs match",
        ),
        pager(req, number, PER_PAGE, total),
    )
    return page("Logs", body)


def release_card(store: Any, version: str) -> Html:
    """The release page's card: log counts by level and trace metric aggregates."""
    counts = store.log_level_counts(version)
    link = "/logs/?release=" + quote(version, safe="")
    cells = [
        html('<a href="{}&amp;level={}">{}</a>: {}', Html(link), lv, lv, counts[lv])
        for lv in LEVELS
        if counts.get(lv)
    ]
    logs = (
        html(
            "<p>{} &middot; {}</p>",
            join(cells, " &middot; "),
            html('<a href="{}">all logs</a>', Html(link)),
        )
        if cells
        else muted("no logs")
    )
    metrics = [
        [
            m["name"],
            m["type"],
            m["unit"],
            m["environment"],
            m["count"],
            _num(m["sum"]),
            _num(m["min"]),
            _num(m["max"]),
            _num(m["last"]),
        ]
        for m in store.metric_aggregates(version)
    ]
    return html(
        "<section class=card id=logs><h3>Logs</h3>{}<h3>Metrics</h3>{}</section>",
        logs,
        table(
            ["name", "type", "unit", "environment", "count", "sum", "min", "max", "last"],
            metrics,
            "no metrics",
        ),
    )


def _num(value: float) -> str:
    return f"{value:.6g}"


def event_card(store: Any, event: Dict[str, Any], timestamp: Any) -> Html:
    """The event page's card: the logs of the event's trace up to a few seconds after it."""
    contexts = event.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    trace_id = trace.get("trace_id") if isinstance(trace, dict) else None
    if not isinstance(trace_id, str) or not trace_id:
        return Html("")
    trace_id = trace_id.replace("-", "").lower()
    at = event.get("timestamp")
    until = float(at) + 5 if isinstance(at, (int, float)) else _parse(timestamp) + 5
    rows = store.logs_of_trace(trace_id, until)
    return html(
        "<h3>Logs of this trace before the error</h3>{}{}",
        html(
            '<p class=muted>trace {} &middot; <a href="/logs/?trace={}">all its logs</a></p>',
            code(trace_id),
            trace_id,
        ),
        table(
            ["time (UTC)", "level", "logger", "message", "trace"],
            log_rows(rows, with_release=False),
            "no logs of this trace",
        ),
    )


def _parse(text: Any) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return datetime.now(timezone.utc).timestamp()
