"""``/releases/``: every release, newest first and paged, with its events, new issues and
health (sessions, crash-free sessions, adoption) in one row each."""

from __future__ import annotations

from typing import Any, Dict, List
from urllib.parse import quote

from . import health, health_html, insights
from .context import Context
from .html import Html, html, join
from .pages import page, page_number, pager
from .request_response import Request, Response
from .when import ago

PER_PAGE = 25


def _health(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One release's health over its environments: sessions, crash-free share, adoption."""
    sessions = sum(r["sessions"] for r in rows)
    crashed = sum(r["crashed"] + r.get("abnormal", 0) for r in rows)
    adoption = [r["adoption"] for r in rows if r["adoption"] is not None]
    return {
        "sessions": sessions,
        "crash_free": (sessions - crashed) / sessions if sessions else None,
        "adoption": max(adoption) if adoption else None,
    }


def _row(store: Any, rel: Any) -> Html:
    version = rel["version"]
    counts = store.event_counts(version)
    events = sum(c["count"] for c in counts)
    last = max((c["last"] for c in counts if c["last"]), default=None)
    figures = _health(health.release_health(store, version))
    return html(
        '<tr><td><a class=version href="/releases/{}/">{}</a>{}</td><td>{}</td>'
        "<td class=num>{}</td>"
        "<td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td>"
        "<td>{}</td></tr>",
        quote(version, safe=""),
        version,
        Html(" <span class=badge>archived</span>") if rel["status"] == "archived" else "",
        ago(rel["date_created"]),
        events,
        insights.new_issue_count(store, rel["id"]),
        figures["sessions"],
        health_html.percent(figures["crash_free"]),
        health_html.percent(figures["adoption"]),
        ago(last) if last else "",
    )


def releases_page(ctx: Context, req: Request) -> Response:
    """``/releases/``: the releases, newest first, a page at a time (``?page=N``)."""
    store = ctx.store
    number = page_number(req)
    rels = store.releases(limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    nav = pager(req, number, PER_PAGE, store.count_releases())
    table = (
        html(
            "<table class=releases><thead><tr><th>release</th><th>created</th>"
            "<th class=num>events</th><th class=num>new issues</th><th class=num>sessions</th>"
            "<th class=num>crash-free sessions</th><th class=num>adoption (24 h)</th>"
            "<th>last event</th></tr></thead><tbody>{}</tbody></table>",
            join(_row(store, r) for r in rels),
        )
        if rels
        else Html(
            "<p class=muted>No releases yet: <code>releasetag releases new VERSION</code></p>"
        )
    )
    return page(
        "Releases",
        html("<h2>Releases</h2><section class=card>{}{}{}</section>", nav, table, nav),
        "/releases/",
    )
