"""Server-rendered HTML pages of the collector: ``/`` and ``/events/{id}/``. Every value
reaches the page through ``html.py`` (escaped, attributes quoted)."""

from __future__ import annotations

import json
from typing import Any, Dict, List
from urllib.parse import quote, urlencode

from .context import Context
from .grouping import exception_values
from .html import Html, html, join
from .logs_cards import event_card
from .request_response import HTTPError, Request, Response, html_response

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1c22;background:#f6f6f8}
header{background:#2b1d38;color:#fff;padding:12px 24px}header a{color:#fff;text-decoration:none}
main{padding:16px 24px;max-width:1200px}h1{font-size:20px;margin:0}h2{font-size:17px;margin:0 0 6px}
h3{font-size:14px;margin:12px 0 4px;color:#4a3e56}
section.release{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:0 0 14px}
table{border-collapse:collapse;width:100%;margin:4px 0}td,th{border-bottom:1px solid #eee;padding:3px 8px;
text-align:left;vertical-align:top}th{color:#666;font-weight:600}code,pre{font:12px ui-monospace,monospace}
.muted{color:#777}.badge{display:inline-block;background:#eee;border-radius:10px;padding:0 8px;margin-right:4px}
.level-error,.level-fatal{color:#b0173a}.level-warning{color:#9a6700}
pre.ctx{background:#f3f1f6;padding:6px;margin:2px 0;overflow:auto}.frame{margin:0 0 8px}
.inapp{border-left:3px solid #6c5fc7;padding-left:8px}
.o-healthy{background:#3c9a5f;color:#fff}.o-errored{background:#e0a526}
.o-abnormal{background:#8c6bb1;color:#fff}.o-crashed{background:#c83a4b;color:#fff}
nav.pager{margin:6px 0}nav.pager a{margin:0 4px}
"""


def page(title: Any, body: Html) -> Response:
    """A whole page around ``body``."""
    return html_response(
        html(
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>{} - releasetag collector</title><style>{}</style></head><body>"
            '<header><h1><a href="/">releasetag collector</a></h1></header>'
            "<main>{}</main></body></html>",
            title,
            Html(STYLE),
            body,
        )
    )


def table(headers: List[str], rows: List[List[Any]], empty: str) -> Html:
    """A table; each cell is escaped unless it is ``Html``."""
    if not rows:
        return html("<p class=muted>{}</p>", empty)
    head = join(html("<th>{}</th>", h) for h in headers)
    body = join(
        html("<tr>{}</tr>", join(html("<td>{}</td>", cell) for cell in row)) for row in rows
    )
    return html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


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
            ev["received"],
        ]
        for ev in events
    ]


def _release_heading(rel: Any, counts: List[Any]) -> Html:
    """A release's name, dates, event count and events per environment."""
    version = rel["version"]
    envs = join(
        html("<span class=badge>{}: {}</span>", c["environment"] or "(none)", c["count"])
        for c in counts
    )
    status = Html(" <span class=badge>archived</span>") if rel["status"] == "archived" else ""
    released = html(" &middot; released {}", rel["date_released"]) if rel["date_released"] else ""
    return html(
        '<h2><a href="/releases/{}/">{}</a>{}</h2>'
        "<div class=muted>created {}{} &middot; <b class=events>{}</b> events</div><div>{}</div>",
        quote(version, safe=""),
        version,
        status,
        rel["date_created"],
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


def _frames_html(frames: List[Any]) -> Html:
    out = []
    for f in reversed(frames):  # most recent call first, as people read traces
        if not isinstance(f, dict):
            continue
        where = html(
            "<code>{}</code> in <code>{}</code> line {}",
            f.get("filename") or f.get("abs_path") or f.get("module"),
            f.get("function"),
            f.get("lineno"),
        )
        lines: List[Any] = []
        pre = f.get("pre_context")
        post = f.get("post_context")
        lines += list(pre)[-2:] if isinstance(pre, list) else []
        if f.get("context_line") is not None:
            lines.append(html("<b>{}</b>", f.get("context_line")))
        lines += list(post)[:2] if isinstance(post, list) else []
        ctx_html = html("<pre class=ctx>{}</pre>", join(lines, "\n")) if lines else ""
        cls = "frame inapp" if f.get("in_app") else "frame"
        out.append(html('<div class="{}">{}{}{}</div>', cls, where, _resolution_html(f), ctx_html))
    return join(out)


def _resolution_html(frame: Dict[str, Any]) -> Any:
    """A line under a JS frame: which sourcemap resolved it, or why none did."""
    data = frame.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("resolution"), dict):
        return ""
    resolution = data["resolution"]
    steps = [str(s) for s in resolution.get("steps") or []]
    if resolution.get("resolved"):
        return html(
            "<div class=muted>unminified with <code>{}</code> ({})</div>",
            data.get("sourcemap"),
            resolution.get("via"),
        )
    return html("<div class=muted>not unminified: {}</div>", "; ".join(steps) or "no reason given")


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


def event_page(ctx: Context, req: Request, event_id: str) -> Response:
    """``/events/{id}/``: title, release, environment, tags and the stack trace."""
    row = ctx.store.event(event_id)
    if row is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    event = json.loads(row["payload"])
    event = event if isinstance(event, dict) else {}
    from .unminify import add_nearest_names

    add_nearest_names(ctx.store, event)
    tags = event.get("tags") or {}
    if isinstance(tags, dict):
        tags = list(tags.items())
    tag_rows = [
        [t[0], t[1]]
        for t in (tags if isinstance(tags, list) else [])
        if isinstance(t, (list, tuple)) and len(t) == 2
    ]
    facts = [
        ["event id", code(row["event_id"])],
        ["level", row["level"]],
        ["message", row["message"]],
        ["logger", event.get("logger")],
        ["release", row["release"]],
        ["environment", row["environment"]],
        ["timestamp", row["timestamp"]],
        ["received", row["received"]],
        ["culprit", row["culprit"]],
        ["issue", _issue_link(ctx, row["group_id"])],
    ]
    traces = []
    for exc in exception_values(event):
        stacktrace = exc.get("stacktrace")
        frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
        traces.append(
            html(
                "<h3>{}: {}</h3>{}",
                exc.get("type"),
                exc.get("value"),
                _frames_html(frames if isinstance(frames, list) else []),
            )
        )
    from .attachments import attachments_html

    body = html(
        "<h2 class=title>{}</h2>{}<h3>Tags</h3>{}<h3>Stack trace</h3>{}<h3>Attachments</h3>{}",
        row["title"],
        table(["", ""], facts, ""),
        table(["key", "value"], tag_rows, "no tags"),
        join(reversed(traces)) or Html("<p class=muted>no stack trace</p>"),
        attachments_html(ctx, row["event_id"]),
    )
    body = join([body, event_card(ctx.store, event, row["timestamp"])])
    return page(row["title"] or "Event", body)
