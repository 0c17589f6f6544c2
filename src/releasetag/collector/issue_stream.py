"""``/issues/``: the issue stream, filtered (status, release, environment, level, first
seen in release, text), sorted (last seen, first seen, events, users) and paged; and ``/events/``,
the latest events, paged."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from . import insights
from .context import Context
from .db import page_queries
from .html import Html, html, join
from .pages import page, page_number, pager
from .request_response import Request, Response
from .when import ago

PER_PAGE = 25
STATUSES: Dict[str, Tuple[str, ...]] = {
    "unresolved": ("unresolved", "regressed"),
    "regressed": ("regressed",),
    "resolved": ("resolved",),
    "ignored": ("ignored",),
    "all": (),
}
SORT_LABELS = {
    "last_seen": "last seen",
    "first_seen": "first seen",
    "events": "events",
    "users": "users",
}
LEVELS = ("fatal", "error", "warning", "info", "debug")
FILTERS = ("release", "environment", "level", "first_release", "q")


def _filters(req: Request) -> Dict[str, Optional[str]]:
    out: Dict[str, Optional[str]] = {}
    for name in FILTERS:
        value = req.query.get(name, "").strip()[:200]
        out["text" if name == "q" else name] = value or None
    return out


def _select(name: str, options: List[Tuple[str, str]], chosen: str) -> Html:
    return html(
        '<select name="{}">{}</select>',
        name,
        join(
            html('<option value="{}" selected>{}</option>', v, label)
            if v == chosen
            else html('<option value="{}">{}</option>', v, label)
            for v, label in options
        ),
    )


def _filter_form(req: Request, store: Any, status: str, sort: str) -> Html:
    def field(label: str, name: str, placeholder: str) -> Html:
        return html(
            '<label>{}<input name="{}" value="{}" placeholder="{}"></label>',
            label,
            name,
            req.query.get(name, "")[:200],
            placeholder,
        )

    level = req.query.get("level", "")
    return html(
        '<form class=filters method=get action="/issues/">'
        "<label>status{}</label>{}{}<label>level{}</label>{}{}<label>sort by{}</label>"
        "<button type=submit>Filter</button></form>",
        _select("status", [(s, s) for s in STATUSES], status),
        field("release", "release", "any"),
        field("environment", "environment", "any"),
        _select("level", [("", "any")] + [(v, v) for v in LEVELS], level),
        field("first seen in release", "first_release", "any"),
        field("text", "q", "title or culprit"),
        _select("sort", list(SORT_LABELS.items()), sort),
    )


def _row(store: Any, issue: Any, stats: Any) -> Html:
    first = insights.release_version(store, issue["first_release_id"])
    return html(
        '<tr><td><a class=issue href="/issues/{}/"><b>{}</b> {}</a><div class=muted>{}</div></td>'
        '<td><span class="st-{}">{}</span></td><td class="level-{}">{}</td><td class=num>{}</td>'
        "<td class=num>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        issue["id"],
        insights.short_id_of(store, issue),
        issue["title"],
        issue["culprit"],
        issue["status"],
        issue["status"],
        issue["level"] or "",
        issue["level"] or "",
        stats["n"] if stats else 0,
        stats["users"] if stats else 0,
        ago(stats["last"]) if stats else "",
        ago(issue["first_seen"]),
        html('<a href="/releases/{}/">{}</a>', quote(first, safe=""), first) if first else "",
    )


def issues_page(ctx: Context, req: Request) -> Response:
    """``/issues/``: one page of the stream (``?status=&release=&environment=&level=
    &first_release=&q=&sort=&page=``)."""
    store = ctx.store
    status = req.query.get("status", "unresolved")
    status = status if status in STATUSES else "unresolved"
    sort = req.query.get("sort", "last_seen")
    sort = sort if sort in SORT_LABELS else "last_seen"
    projects = store.projects()
    number = page_number(req)
    rows: List[Any] = []
    total = 0
    if projects:
        rows, total = page_queries.issue_stream(
            store,
            projects[0]["id"],
            STATUSES[status],
            _filters(req),
            sort,
            PER_PAGE,
            (number - 1) * PER_PAGE,
        )
    stats = page_queries.stream_stats(store, [r["id"] for r in rows])
    table = (
        html(
            "<table class=stream><thead><tr><th>issue</th><th>status</th><th>level</th>"
            "<th class=num>events</th><th class=num>users</th><th>last seen</th>"
            "<th>first seen</th><th>first release</th></tr></thead><tbody>{}</tbody></table>",
            join(_row(store, r, stats.get(r["id"])) for r in rows),
        )
        if rows
        else Html("<p class=muted>No issues match these filters.</p>")
    )
    nav = pager(req, number, PER_PAGE, total)
    body = html(
        "<h2>Issues <span class=muted>({})</span></h2>{}<section class=card>{}{}{}</section>",
        total,
        _filter_form(req, store, status, sort),
        nav,
        table,
        nav,
    )
    return page("Issues", body, "/issues/")


EVENTS_PER_PAGE = 50


def events_page(ctx: Context, req: Request) -> Response:
    """``/events/``: the latest events of the project, newest first, paged."""
    store = ctx.store
    projects = store.projects()
    number = page_number(req)
    rows: List[Any] = []
    if projects:
        rows = store.events(
            projects[0]["id"], limit=EVENTS_PER_PAGE, offset=(number - 1) * EVENTS_PER_PAGE
        )
    body = join(
        html(
            '<tr><td class="level-{}">{}</td><td><a href="/events/{}/">{}</a></td><td>{}</td>'
            "<td>{}</td><td>{}</td></tr>",
            ev["level"] or "",
            ev["level"] or "",
            quote(ev["event_id"]),
            ev["title"] or ev["event_id"],
            html('<a href="/releases/{}/">{}</a>', quote(ev["release"], safe=""), ev["release"])
            if ev["release"]
            else "",
            ev["environment"] or "",
            ago(ev["received"]),
        )
        for ev in rows
    )
    nav = pager(req, number, EVENTS_PER_PAGE, store.count_events() if projects else 0)
    table = (
        html(
            "<table><thead><tr><th>level</th><th>title</th><th>release</th><th>environment</th>"
            "<th>received</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )
        if rows
        else Html("<p class=muted>No events yet.</p>")
    )
    return page(
        "Events",
        html("<h2>Events</h2><section class=card>{}{}{}</section>", nav, table, nav),
        "/events/",
    )
