"""Cards of the issue page that read its events: the latest event's stack trace, events per
day over the last two weeks, and the distribution of its releases, environments and servers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List
from urllib.parse import quote

from . import event_sections
from .db import page_queries
from .html import Html, html, join
from .insights import Issue

DAYS = 14


def latest_trace(store: Any, row: Issue) -> Html:
    """The stack trace of the issue's latest event, with a link to that event."""
    ev = page_queries.latest_event(store, row["id"])
    if ev is None:
        return Html("")
    try:
        payload = json.loads(ev["payload"])
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    trace = event_sections.exceptions(payload) or event_sections.stacktrace_only(payload)
    return html(
        '<section class=card id=latest><h3>Latest event <a href="/events/{}/">{}</a></h3>'
        "{}</section>",
        quote(ev["event_id"]),
        ev["event_id"][:12],
        trace or Html("<p class=muted>no stack trace</p>"),
    )


def daily(store: Any, row: Issue) -> Html:
    """Events per day (UTC) over the last ``DAYS`` days, as bars with their counts."""
    today = datetime.now(timezone.utc).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
    counts = {r["day"]: r["n"] for r in page_queries.daily_counts(store, row["id"], days[0])}
    top = max(counts.values(), default=0) or 1
    bars = join(
        html(
            '<span style="height:{}%" title="{}: {} events"></span>',
            round(counts.get(d, 0) * 100 / top),
            d,
            counts.get(d, 0),
        )
        for d in days
    )
    return html(
        "<section class=card id=over-time><h3>Events per day, last {} days (UTC)</h3>"
        '<div class=bars role=img aria-label="events per day">{}</div>'
        "<div class=muted>{} to {}: {} events</div></section>",
        DAYS,
        bars,
        days[0],
        days[-1],
        sum(counts.get(d, 0) for d in days),
    )


def _distribution(rows: List[Any]) -> Html:
    total = sum(r["n"] for r in rows) or 1
    return join(
        html(
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{}%</td></tr>",
            r["value"] if r["value"] not in (None, "") else "(none)",
            r["n"],
            round(r["n"] * 100 / total),
        )
        for r in rows
    )


def _totals(releases: List[Dict[str, Any]], key: str) -> List[Dict[str, Any]]:
    sums: Dict[Any, int] = {}
    for r in releases:
        sums[r[key]] = sums.get(r[key], 0) + int(r["times_seen"])
    top = sorted(sums.items(), key=lambda kv: -kv[1])[:10]
    return [{"value": value, "n": n} for value, n in top]


def tags(store: Any, row: Issue, releases: List[Dict[str, Any]]) -> Html:
    """The issue's main tags over all its events, the most frequent first: release and
    environment (``releases`` are ``insights.group_releases`` rows) and server."""
    counts = {
        "release": _totals(releases, "version"),
        "environment": _totals(releases, "environment"),
        "server": page_queries.server_counts(store, row["id"]),
    }
    tables = join(
        html(
            "<div><h4>{}</h4><table><tbody>{}</tbody></table></div>",
            title,
            _distribution(counts[key]),
        )
        for key, title in (
            ("release", "release"),
            ("environment", "environment"),
            ("server", "server"),
        )
        if counts[key]
    )
    return html("<section class=card id=tag-counts><h3>Tags</h3>{}</section>", tables)
