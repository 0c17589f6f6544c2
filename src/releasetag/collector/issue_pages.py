"""HTML pages of what releases tell: ``/releases/{version}/`` (new issues, regressions,
suspect commits, resolutions, commits, deploys and who heard of them) and ``/issues/{id}/``
(events, suspect commits, assignee, resolution, releases). Every value reaches the page
through ``html.py`` (escaped, attributes quoted)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import quote

from . import health, health_html, insights, logs_cards, monitor_pages, notify, pipeline_marks
from .context import Context
from .html import Html, html, join
from .insights import Issue
from .pages import code, files_cell, first_line, muted, page, page_number, pager, table
from .request_response import HTTPError, Request, Response
from .when import ago

EVENTS_PER_PAGE = 50

STATUS_CLASS = {
    "resolved": "st-resolved",
    "regressed": "st-regressed",
    "unresolved": "st-unresolved",
}
EXTRA_STYLE = Html(
    "<style>.st-resolved{color:#2b7a3d;font-weight:600}.st-regressed{color:#b0173a;"
    "font-weight:600}.st-unresolved{color:#9a6700;font-weight:600}"
    ".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;"
    "margin:0 0 14px}</style>"
)


def _release_link(version: Any) -> Html:
    if not version:
        return muted("(none)")
    return html('<a href="/releases/{}/">{}</a>', quote(str(version), safe=""), version)


def _issue_link(store: Any, row: Issue) -> Html:
    return html(
        '<a class=issue href="/issues/{}/"><b>{}</b> {}</a>',
        row["id"],
        insights.short_id_of(store, row),
        row["title"],
    )


def _status(row: Issue) -> Html:
    return html('<span class="{}">{}</span>', STATUS_CLASS.get(row["status"], ""), row["status"])


def _suspect_cell(store: Any, row: Issue) -> Html:
    suspects = insights.suspect_commits(store, row, limit=1)
    if not suspects:
        return muted("none found")
    c = suspects[0]
    return html(
        "{} {} <span class=muted>by {}</span>",
        code(c["key"][:12]),
        first_line(c.get("message")),
        c.get("author_name") or c.get("author_email"),
    )


def _person(who: Optional[Dict[str, Any]], source: bool = False) -> Html:
    if not who:
        return muted("nobody")
    email = html(" <span class=muted>&lt;{}&gt;</span>", who["email"]) if who.get("email") else ""
    how = html(" <span class=muted>({})</span>", who["source"]) if source else ""
    return html("{}{}{}", who["name"], email, how)


def _issue_rows(store: Any, rows: List[Issue]) -> List[List[Any]]:
    return [
        [
            _issue_link(store, r),
            _status(r),
            r["times_seen"],
            _suspect_cell(store, r),
            _person(insights.assignee(store, r)),
        ]
        for r in rows
    ]


ISSUE_HEADERS = ["issue", "status", "events", "suspect commit", "assignee"]


def _card(card_id: str, title: str, content: Html) -> Html:
    """A ``<section class=card>`` with one heading (``card_id``: a literal of this module)."""
    return html("<section class=card id={}><h3>{}</h3>{}</section>", Html(card_id), title, content)


def _deploy_rows(store: Any, rel: Any) -> List[List[Any]]:
    """The release's deploys, each with who was (or would have been) told."""
    rows = []
    deploys = store.deploys(rel["id"])
    notified = notify.notifications(store, [d["id"] for d in deploys])
    for d in deploys:
        told = join(
            (
                html(
                    "{} <span class=muted>({}{})</span>",
                    n["email"],
                    n["status"],
                    html(": {}", n["detail"]) if n["detail"] else "",
                )
                for n in notified[d["id"]]
            ),
            "<br>",
        )
        rows.append(
            [
                d["environment"],
                d["name"],
                ago(d["date_finished"]),
                told or muted("no commit authors"),
            ]
        )
    return rows


def _commit_rows(store: Any, rel: Any) -> List[List[Any]]:
    return [
        [
            code(c["key"][:12]),
            c.get("author_name"),
            c.get("author_email"),
            first_line(c.get("message")),
            files_cell(c["files"]),
        ]
        for c in store.release_commits(rel["id"])
    ]


def _ref_rows(refs: List[Dict[str, Any]]) -> List[List[Any]]:
    return [
        [
            code(r["commit_key"][:12]),
            r["short_id"],
            html(
                '<span class="{}">{}</span>',
                "st-resolved" if r["outcome"] == "resolved" else "muted",
                r["outcome"],
            ),
            r["reason"],
        ]
        for r in refs
    ]


def _release_heading(rel: Any, counts: List[Dict[str, Any]]) -> Html:
    env_badges = join(
        html(
            "<span class=badge>{}: {} events, {} issues</span>",
            c["environment"] or "(none)",
            c["count"],
            c["issues"],
        )
        for c in counts
    )
    released = (
        html(" &middot; released {}", ago(rel["date_released"])) if rel["date_released"] else ""
    )
    return html(
        "<h2>Release <span class=version>{}</span></h2><div class=muted>created {}{}</div>"
        "<div>{}</div>",
        rel["version"],
        ago(rel["date_created"]),
        released,
        env_badges,
    )


def _health_card(store: Any, version: str) -> Html:
    return html(
        "<section class=card id=health><h3>Health</h3>{}<h3>Sessions per hour, last 24 h "
        "(UTC)</h3>{}</section>",
        table(
            health_html.SUMMARY_HEADERS,
            health_html.summary_rows(health.release_health(store, version)),
            "no sessions: the SDK sends them for each request (or process) once it "
            "knows its release",
        ),
        health_html.chart(store, version),
    )


def _issue_cards(store: Any, report: Dict[str, Any]) -> Html:
    """New issues, regressions, resolutions and the issue references of commit messages."""
    resolved = html(
        "{}<h3>Issue references in commit messages</h3>{}",
        table(
            ISSUE_HEADERS,
            _issue_rows(store, report["resolved"]),
            "no issues resolved in this release",
        ),
        table(["commit", "issue", "outcome", "why"], _ref_rows(report["refs"]), "none"),
    )
    return join(
        [
            _card(
                "new-issues",
                "New issues",
                table(ISSUE_HEADERS, _issue_rows(store, report["new"]), "no new issues"),
            ),
            _card(
                "regressions",
                "Regressions",
                table(ISSUE_HEADERS, _issue_rows(store, report["regressed"]), "no regressions"),
            ),
            _card("resolved", "Resolved in this release", resolved),
        ]
    )


def release_page(ctx: Context, req: Request, version: str) -> Response:
    """``/releases/{version}/``."""
    store = ctx.store
    rel = store.release(version)
    if rel is None:
        raise HTTPError(404, f"release {version} does not exist")
    report = insights.release_report(store, rel)
    commits = table(
        ["commit", "author", "email", "message", "files"],
        _commit_rows(store, rel),
        "no commits",
    )
    deploys = table(
        ["environment", "name", "finished", "notified"], _deploy_rows(store, rel), "no deploys"
    )
    body = join(
        [
            EXTRA_STYLE,
            _release_heading(rel, report["counts"]),
            pipeline_marks.release_fragment(store, rel),
            _health_card(store, version),
            logs_cards.release_card(store, version),
            _release_events(ctx, req, version),
            _issue_cards(store, report),
            _card("commits", "Commits", commits),
            _card("deploys", "Deploys", deploys),
            monitor_pages.release_check_ins(store, version),
        ]
    )
    return page(f"Release {rel['version']}", body, "/releases/")


def _resolution(store: Any, row: Issue) -> Html:
    res = insights.resolution(store, row)
    if res:
        how = {
            "inCommit": html("by {}", res["by"]),
            "inRelease": "by hand",
            "inNextRelease": "in the release after",
        }.get(res["kind"], "by hand")
        if res["release"]:
            return html("resolved in {} {} at {}", _release_link(res["release"]), how, res["at"])
        return html("resolved {} at {}", how, res["at"])
    if row["status"] == "regressed":
        last = (insights.regressions(store, row["id"]) or [{}])[-1]
        return html(
            "<span class=st-regressed>regressed</span>: resolved in {}, seen again in {}",
            _release_link(last.get("resolved_release")),
            _release_link(last.get("release")),
        )
    if row["status"] == "ignored":
        return muted("ignored (muted by hand: new events leave it so)")
    return muted("unresolved")


def _release_events(ctx: Context, req: Request, version: str) -> Html:
    """The release's events, newest first, a page at a time (``?events=N``)."""
    store = ctx.store
    projects = store.projects()
    if not projects:
        return Html("")
    project_id = projects[0]["id"]
    number = page_number(req, "events")
    total = store.count_release_events(project_id, version)
    rows = [
        [
            html('<span class="level-{0}">{0}</span>', ev["level"]),
            html('<a href="/events/{}/">{}</a>', quote(ev["event_id"]), ev["title"]),
            ev["environment"],
            ago(ev["received"]),
        ]
        for ev in store.events(
            project_id,
            release=version,
            limit=EVENTS_PER_PAGE,
            offset=(number - 1) * EVENTS_PER_PAGE,
        )
    ]
    return html(
        "<section class=card id=events><h3>Events</h3>{}{}</section>",
        table(["level", "title", "environment", "received"], rows, "no events"),
        pager(req, number, EVENTS_PER_PAGE, total, "events"),
    )


def _issue_facts(store: Any, row: Issue, who: Any) -> Html:
    first = insights.release_version(store, row["first_release_id"])
    last_rel = insights.release_version(store, row["last_release_id"])
    facts = [
        ["short ID", html("<b class=short-id>{}</b>", insights.short_id_of(store, row))],
        ["status", _status(row)],
        ["resolution", _resolution(store, row)],
        *pipeline_marks.regression_facts(store, row),
        ["assignee", _person(who, source=True)],
        ["culprit", row["culprit"]],
        ["events", row["times_seen"]],
        ["users", row["user_count"]],
        ["first seen", html("{} in {}", ago(row["first_seen"]), _release_link(first))],
        ["last seen", html("{} in {}", ago(row["last_seen"]), _release_link(last_rel))],
    ]
    return html(
        "<h2 class=title>{}</h2><section class=card id=facts>{}</section>",
        row["title"],
        table(["", ""], facts, ""),
    )


def _suspects_card(suspects: List[Dict[str, Any]]) -> Html:
    rows = [
        [
            code(c["key"][:12]),
            _release_link(c["release"]),
            c.get("author_name"),
            first_line(c.get("message")),
            join(c["files"], "<br>"),
            c["frames_touched"],
        ]
        for c in suspects
    ]
    return _card(
        "suspects",
        "Suspect commits",
        table(
            ["commit", "release", "author", "message", "files in the trace", "frames"],
            rows,
            "no commit of its releases touched its frames",
        ),
    )


def _issue_releases_card(releases: List[Dict[str, Any]]) -> Html:
    rows = [
        [
            _release_link(r["version"]),
            r["environment"] or "(none)",
            r["times_seen"],
            ago(r["first_seen"]),
            ago(r["last_seen"]),
        ]
        for r in releases
    ]
    return _card(
        "releases",
        "Releases",
        table(["release", "environment", "events", "first seen", "last seen"], rows, "no releases"),
    )


def _issue_events_card(store: Any, req: Request, row: Issue) -> Html:
    number = page_number(req)
    rows = [
        [
            html('<a href="/events/{}/">{}</a>', quote(ev["event_id"]), code(ev["event_id"][:12])),
            ev["title"],
            _release_link(ev["release"]),
            ev["environment"],
            ago(ev["received"]),
        ]
        for ev in insights.group_events(
            store, row["id"], EVENTS_PER_PAGE, (number - 1) * EVENTS_PER_PAGE
        )
    ]
    return html(
        "<section class=card id=events><h3>Events</h3>{}{}</section>",
        table(["event", "title", "release", "environment", "received"], rows, "no events"),
        pager(req, number, EVENTS_PER_PAGE, int(row["times_seen"] or 0)),
    )


def issue_page(ctx: Context, req: Request, issue_id: str) -> Response:
    """``/issues/{id}/`` (numeric id or short ID): facts, actions, the latest event's stack
    trace, events over time, tag distributions, suspect commits, releases and events."""
    from . import csrf, issue_actions, issue_detail

    store = ctx.store
    row = insights.group(store, issue_id)
    if row is None:
        raise HTTPError(404, f"issue {issue_id} does not exist")
    suspects = insights.suspect_commits(store, row)
    token, cookie = csrf.issue(ctx, req)
    releases = insights.group_releases(store, row["id"])
    sections = [
        EXTRA_STYLE,
        _issue_facts(store, row, insights.assignee(store, row, suspects)),
        issue_actions.card(row, token, suspects),
        issue_detail.latest_trace(store, row),
        issue_detail.daily(store, row),
        issue_detail.tags(store, row, releases),
        _suspects_card(suspects),
        _issue_releases_card(releases),
        _issue_events_card(store, req, row),
    ]
    resp = page(f"{insights.short_id_of(store, row)} {row['title']}", join(sections), "/issues/")
    if cookie:
        resp.headers.append(("Set-Cookie", cookie))
    return resp
