"""The log cards of other pages: the release page's log counts by level and metric
aggregates, and the event page's logs of the event's trace up to the error. This module does
not import ``pages`` (which shows the event card), so it has its own small table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List
from urllib.parse import quote

from .html import Html, html, join
from .log_intake import LEVELS


def table(headers: List[str], rows: List[List[Any]], empty: str) -> Html:
    """A table like ``pages.table``: each cell escaped unless it is ``Html``."""
    if not rows:
        return html("<p class=muted>{}</p>", empty)
    head = join(html("<th>{}</th>", h) for h in headers)
    body = join(html("<tr>{}</tr>", join(html("<td>{}</td>", c) for c in row)) for row in rows)
    return html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def muted(value: Any) -> Html:
    return html("<span class=muted>{}</span>", value)


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
            html("<code>{}</code>", trace_id),
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
