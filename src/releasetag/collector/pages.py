"""Server-rendered HTML pages of the collector: ``/`` and ``/events/{id}/``. Every value
reaches the page through ``html.py`` (escaped, attributes quoted)."""

from __future__ import annotations

import json
from typing import Any, Dict, List
from urllib.parse import quote, urlencode

from .context import Context
from .html import Html, html, join
from .logs_cards import event_card
from .request_response import HTTPError, Request, Response, html_response
from .style import STYLE  # noqa: E402  (kept here: other modules import it)


def page(title: Any, body: Html, current: str = "") -> Response:
    """A whole page around ``body`` (``current``: its entry of the navigation, see nav.py)."""
    from .nav import header

    return html_response(
        html(
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>{} - releasetag collector</title><style>{}</style></head><body>"
            "{}<main>{}</main></body></html>",
            title,
            Html(STYLE),
            header(current),
            body,
        )
    )


def table(headers: List[str], rows: List[List[Any]], empty: str) -> Html:
    """A table; each cell is escaped unless it is ``Html``."""
    if not rows:
        return html("<p class=muted>{}</p>", empty)
    head = join(html("<th>{}</th>", h) for h in headers)
    body = join(html("<tr>{}</tr>", join(_cell(cell) for cell in row)) for row in rows)
    return html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _cell(value: Any) -> Html:
    """A table cell; numbers right-aligned (``td.num``: tabular figures)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return html("<td class=num>{}</td>", value)
    return html("<td>{}</td>", value)


def page_number(req: Request, name: str = "page") -> int:
    """The 1-based page a list shows (``?page=N``); anything else is page 1."""
    value = req.query.get(name, "")
    return max(1, min(int(value), 10**6)) if value.isdigit() else 1


def pager(req: Request, number: int, per_page: int, total: int, name: str = "page") -> Html:
    """Links to the previous and next pages of a list of ``total`` rows, or nothing when
    it fits on one page."""
    pages = max(1, -(-total // per_page))
    if pages == 1:
        return Html("")
    others = {k: v for k, v in req.query.items() if k != name}

    def link(n: int, text: str) -> Html:
        query = urlencode({**others, name: str(n)})
        rel = "prev" if n < number else "next"
        return html('<a rel="{}" href="{}?{}">{}</a>', rel, quote(req.path), query, text)

    parts = [html("page {} of {} ({} in all)", min(number, pages), pages, total)]
    if number > 1:
        parts.append(link(min(number, pages) - 1, "newer"))
    if number < pages:
        parts.append(link(number + 1, "older"))
    return html("<nav class=pager>{}</nav>", join(parts, " &middot; "))


def code(value: Any) -> Html:
    return html("<code>{}</code>", value)


def muted(value: Any) -> Html:
    return html("<span class=muted>{}</span>", value)


def files_cell(files: List[Dict[str, Any]]) -> Html:
    return join((html("{} {}", f["type"], f["path"]) for f in files), "<br>")


def first_line(text: Any) -> str:
    return (text or "").split("\n", 1)[0]


RELEASES_PER_PAGE = 20
EVENTS_PER_RELEASE = 5  # the home page's latest events of each release
ROWS_PER_LIST = 10  # commits, deploys and artifacts shown per release on the home page


def _more(shown: int, total: int, version: str, what: str) -> Html:
    if total <= shown:
        return Html("")
    return html(
        '<p class=more><a href="/releases/{}/">all {} {}</a></p>',
        quote(version, safe=""),
        total,
        what,
    )


def _listed(title: str, headers: List[str], rows: List[List[Any]], empty: str, more: Html) -> Html:
    """One list of a release section: its heading, its table and a link to the rest."""
    return html("<h3>{}</h3>{}{}", title, table(headers, rows, empty), more)


def _commit_rows(commits: List[Dict[str, Any]]) -> List[List[Any]]:
    return [
        [
            code(c["key"][:12]),
            c["repo_name"],
            c.get("author_name"),
            first_line(c.get("message")),
            files_cell(c["files"]),
        ]
        for c in commits[:ROWS_PER_LIST]
    ]


def _event_rows(events: List[Any]) -> List[List[Any]]:
    return [
        [
            html('<span class="level-{0}">{0}</span>', ev["level"]),
            html('<a href="/events/{}/">{}</a>', quote(ev["event_id"]), ev["title"]),
            ev["environment"],
            _ago(ev["received"]),
        ]
        for ev in events
    ]


def _ago(value: Any) -> Html:
    from .when import ago

    return ago(value)


def _release_heading(rel: Any, counts: List[Any]) -> Html:
    """A release's name, dates, event count and events per environment."""
    version = rel["version"]
    envs = join(
        html("<span class=badge>{}: {}</span>", c["environment"] or "(none)", c["count"])
        for c in counts
    )
    status = Html(" <span class=badge>archived</span>") if rel["status"] == "archived" else ""
    released = (
        html(" &middot; released {}", _ago(rel["date_released"])) if rel["date_released"] else ""
    )
    return html(
        '<h2><a href="/releases/{}/">{}</a>{}</h2>'
        "<div class=muted>created {}{} &middot; <b class=events>{}</b> events</div><div>{}</div>",
        quote(version, safe=""),
        version,
        status,
        _ago(rel["date_created"]),
        released,
        sum(c["count"] for c in counts),
        envs,
    )


def _release_lists(ctx: Context, project: Any, rel: Any) -> Html:
    """The latest events, commits, deploys and artifacts of a release (a few of each)."""
    store = ctx.store
    version = rel["version"]
    events: List[Any] = []
    project_events = 0
    if project is not None:
        project_events = store.count_release_events(project["id"], version)
        events = store.events(project["id"], release=version, limit=EVENTS_PER_RELEASE)
    commits = store.release_commits(rel["id"])
    deploys = store.deploys(rel["id"])
    deploy_rows = [
        [d["environment"], d["name"], d["date_finished"], d["url"]] for d in deploys[:ROWS_PER_LIST]
    ]
    artifacts = store.release_artifacts(version)
    artifact_rows = [
        [a["name"], a["type"], code(a["debug_id"]), a["dist"], a["size"]]
        for a in artifacts[:ROWS_PER_LIST]
    ]
    hidden = len(artifacts) - ROWS_PER_LIST
    return join(
        [
            _listed(
                "Latest events",
                ["level", "title", "environment", "received"],
                _event_rows(events),
                "no events",
                _more(len(events), project_events, version, "events"),
            ),
            _listed(
                "Commits",
                ["commit", "repository", "author", "message", "files"],
                _commit_rows(commits),
                "no commits",
                _more(min(len(commits), ROWS_PER_LIST), len(commits), version, "commits"),
            ),
            _listed(
                "Deploys",
                ["environment", "name", "finished", "url"],
                deploy_rows,
                "no deploys",
                _more(len(deploy_rows), len(deploys), version, "deploys"),
            ),
            _listed(
                "Artifacts",
                ["name", "type", "debug id", "dist", "bytes"],
                artifact_rows,
                "no artifacts",
                html("<p class=more>and {} more artifacts</p>", hidden) if hidden > 0 else Html(""),
            ),
        ]
    )


def _release_section(ctx: Context, project: Any, rel: Any) -> Html:
    """One release on ``/``."""
    from . import health, health_html

    version = rel["version"]
    health_table = table(
        health_html.SUMMARY_HEADERS,
        health_html.summary_rows(health.release_health(ctx.store, version)),
        "no sessions",
    )
    return html(
        '<section class=release id="release-{}">{}<h3>Health</h3>{}{}</section>',
        version,
        _release_heading(rel, ctx.store.event_counts(version)),
        health_table,
        _release_lists(ctx, project, rel),
    )


def index(ctx: Context, req: Request) -> Response:
    """``/``: releases newest first (paged), each with its health per environment, its
    latest events and a short list of commits, deploys and artifacts."""
    store = ctx.store
    projects = store.projects()
    project = projects[0] if projects else None
    number = page_number(req)
    sections = [
        _release_section(ctx, project, rel)
        for rel in store.releases(limit=RELEASES_PER_PAGE, offset=(number - 1) * RELEASES_PER_PAGE)
    ]
    unreleased = project is not None and store.count_events_without_release()
    if unreleased and number == 1:
        sections.append(
            html(
                "<section class=release><h2>(no release)</h2>"
                "<div class=muted>{} events without a release</div></section>",
                unreleased,
            )
        )
    body = join(sections) or Html("<p class=muted>No releases or events yet.</p>")
    nav = pager(req, number, RELEASES_PER_PAGE, store.count_releases())
    return page("Releases", html("<h2>Releases</h2>{}{}{}", nav, body, nav))


def _issue_link(ctx: Context, group_id: Any) -> Html:
    from .insights import group, short_id_of

    issue = group(ctx.store, str(group_id)) if group_id else None
    if issue is None:
        return Html("")
    return html(
        '<a href="/issues/{}/">{}</a> <span class=muted>({})</span>',
        issue["id"],
        short_id_of(ctx.store, issue),
        issue["status"],
    )


def _event_facts(ctx: Context, row: Any, event: Dict[str, Any]) -> Html:
    """The event's title and the facts about it (empty rows left out)."""
    from .when import ago

    facts = [
        ["event id", code(row["event_id"])],
        ["issue", _issue_link(ctx, row["group_id"])],
        ["level", html('<span class="level-{0}">{0}</span>', row["level"]) if row["level"] else ""],
        ["release", _release_link(row["release"])],
        ["environment", row["environment"]],
        ["occurred", ago(row["timestamp"])],
        ["received", ago(row["received"])],
        ["culprit", row["culprit"]],
        ["logger", event.get("logger") if isinstance(event.get("logger"), str) else ""],
    ]
    rows = [[html("<th>{}</th>", k), v] for k, v in facts if v not in (None, "")]
    return html(
        "<h2 class=title>{}</h2><section class=card id=facts><table class=kv><tbody>{}</tbody>"
        "</table></section>",
        row["title"],
        join(html("<tr>{}<td>{}</td></tr>", k, v) for k, v in rows),
    )


def _release_link(version: Any) -> Html:
    if not version:
        return Html("")
    return html('<a href="/releases/{}/">{}</a>', quote(str(version), safe=""), version)


def load_event(ctx: Context, event_id: str) -> Any:
    """(row, payload) of a stored event; 404 when there is none."""
    row = ctx.store.event(event_id)
    if row is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    try:
        event = json.loads(row["payload"])
    except ValueError:
        event = {}
    event = event if isinstance(event, dict) else {}
    from .unminify import add_nearest_names

    add_nearest_names(ctx.store, event)
    return row, event


def event_page(ctx: Context, req: Request, event_id: str) -> Response:
    """``/events/{id}/``: the facts, tags, exception chain (locals per frame), request, user,
    breadcrumbs, contexts and extra data; sections with nothing to show are left out."""
    from . import event_sections as sec
    from .attachments import attachments_html

    row, event = load_event(ctx, event_id)
    sections: List[Html] = [
        _event_facts(ctx, row, event),
        sec.tags(event),
        sec.message(event),
        sec.exceptions(event),
        sec.stacktrace_only(event),
        sec.request(event),
        sec.user(event),
        sec.breadcrumbs(event),
        sec.contexts(event),
        sec.extra(event),
        # fragments of other features: one line each below (attachments, the trace's logs)
        attachments_html(ctx, row["event_id"]),
        event_card(ctx.store, event, row["timestamp"]),
    ]
    return page(row["title"] or "Event", join(sections), "/events/")
