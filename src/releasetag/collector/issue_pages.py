"""HTML pages of what releases tell: ``/releases/{version}/`` (new issues, regressions,
suspect commits, resolutions, commits, deploys and who heard of them) and ``/issues/{id}/``
(events, suspect commits, assignee, resolution, releases). Every value goes through ``e()``."""

from __future__ import annotations

from typing import Any, List
from urllib.parse import quote

from . import insights, notify
from .context import Context
from .http import HTTPError, Request, Response
from .insights import Issue
from .pages import _page, _table, e

STATUS_CLASS = {
    "resolved": "st-resolved",
    "regressed": "st-regressed",
    "unresolved": "st-unresolved",
}
EXTRA_STYLE = (
    "<style>.st-resolved{color:#2b7a3d;font-weight:600}.st-regressed{color:#b0173a;"
    "font-weight:600}.st-unresolved{color:#9a6700;font-weight:600}"
    ".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;"
    "margin:0 0 14px}</style>"
)


def _release_link(version: Any) -> str:
    if not version:
        return "<span class=muted>(none)</span>"
    return f'<a href="/releases/{e(quote(str(version), safe=""))}/">{e(version)}</a>'


def _issue_link(store: Any, row: Issue) -> str:
    return (
        f'<a class=issue href="/issues/{e(row["id"])}/">'
        f"<b>{e(insights.short_id_of(store, row))}</b> {e(row['title'])}</a>"
    )


def _status(row: Issue) -> str:
    return f"<span class={STATUS_CLASS.get(row['status'], '')}>{e(row['status'])}</span>"


def _suspect_cell(store: Any, row: Issue) -> str:
    suspects = insights.suspect_commits(store, row, limit=1)
    if not suspects:
        return "<span class=muted>none found</span>"
    c = suspects[0]
    return (
        f"<code>{e(c['key'][:12])}</code> {e((c.get('message') or '').split(chr(10))[0])}"
        f" <span class=muted>by {e(c.get('author_name') or c.get('author_email'))}</span>"
    )


def _issue_rows(store: Any, rows: List[Issue]) -> List[List[str]]:
    out = []
    for r in rows:
        who = insights.assignee(store, r)
        out.append(
            [
                _issue_link(store, r),
                _status(r),
                e(r["times_seen"]),
                _suspect_cell(store, r),
                e(who["name"])
                + (
                    f" <span class=muted>&lt;{e(who['email'])}&gt;</span>"
                    if who and who.get("email")
                    else ""
                )
                if who
                else "<span class=muted>nobody</span>",
            ]
        )
    return out


ISSUE_HEADERS = ["issue", "status", "events", "suspect commit", "assignee"]


def release_page(ctx: Context, req: Request, version: str) -> Response:
    """``/releases/{version}/``."""
    store = ctx.store
    rel = store.release(version)
    if rel is None:
        raise HTTPError(404, f"release {version} does not exist")
    report = insights.release_report(store, rel)
    env_badges = "".join(
        f"<span class=badge>{e(c['environment'] or '(none)')}: "
        f"{e(c['count'])} events, {e(c['issues'])} issues</span>"
        for c in report["counts"]
    )
    commits = store.release_commits(rel["id"])
    commit_rows = [
        [
            f"<code>{e(c['key'][:12])}</code>",
            e(c.get("author_name")),
            e(c.get("author_email")),
            e((c.get("message") or "").split("\n", 1)[0]),
            "<br>".join(f"{e(f['type'])} {e(f['path'])}" for f in c["files"]),
        ]
        for c in commits
    ]
    deploy_rows = []
    for d in store.deploys(rel["id"]):
        told = notify.notifications(store, d["id"])
        people = (
            "<br>".join(
                f"{e(n['email'])} <span class=muted>({e(n['status'])}"
                f"{': ' + e(n['detail']) if n['detail'] else ''})</span>"
                for n in told
            )
            or "<span class=muted>no commit authors</span>"
        )
        deploy_rows.append([e(d["environment"]), e(d["name"]), e(d["date_finished"]), people])
    ref_rows = [
        [
            f"<code>{e(r['commit_key'][:12])}</code>",
            e(r["short_id"]),
            f"<span class={'st-resolved' if r['outcome'] == 'resolved' else 'muted'}>"
            f"{e(r['outcome'])}</span>",
            e(r["reason"]),
        ]
        for r in report["refs"]
    ]
    body = (
        EXTRA_STYLE + f"<h2>Release <span class=version>{e(rel['version'])}</span></h2>"
        f"<div class=muted>created {e(rel['date_created'])}"
        f"{' &middot; released ' + e(rel['date_released']) if rel['date_released'] else ''}"
        f"</div><div>{env_badges}</div>"
        "<section class=card id=new-issues><h3>New issues</h3>"
        + _table(ISSUE_HEADERS, _issue_rows(store, report["new"]), "no new issues")
        + "</section><section class=card id=regressions><h3>Regressions</h3>"
        + _table(ISSUE_HEADERS, _issue_rows(store, report["regressed"]), "no regressions")
        + "</section><section class=card id=resolved><h3>Resolved in this release</h3>"
        + _table(
            ISSUE_HEADERS,
            _issue_rows(store, report["resolved"]),
            "no issues resolved in this release",
        )
        + "<h3>Issue references in commit messages</h3>"
        + _table(["commit", "issue", "outcome", "why"], ref_rows, "none")
        + "</section><section class=card id=commits><h3>Commits</h3>"
        + _table(["commit", "author", "email", "message", "files"], commit_rows, "no commits")
        + "</section><section class=card id=deploys><h3>Deploys</h3>"
        + _table(["environment", "name", "finished", "notified"], deploy_rows, "no deploys")
        + "</section>"
    )
    return _page(f"Release {rel['version']}", body)


def issue_page(ctx: Context, req: Request, issue_id: str) -> Response:
    """``/issues/{id}/`` (numeric id or short ID)."""
    store = ctx.store
    row = insights.group(store, issue_id)
    if row is None:
        raise HTTPError(404, f"issue {issue_id} does not exist")
    suspects = insights.suspect_commits(store, row)
    who = insights.assignee(store, row, suspects)
    res = insights.resolution(store, row)
    if res:
        how = {
            "inCommit": "by " + e(res["by"]),
            "inRelease": "by hand",
            "inNextRelease": "in the release after",
        }.get(res["kind"], "by hand")
        res_html = (
            f"resolved in {_release_link(res['release'])} {how} at {e(res['at'])}"
            if res["release"]
            else f"resolved {how} at {e(res['at'])}"
        )
    elif row["status"] == "regressed":
        last = (insights.regressions(store, row["id"]) or [{}])[-1]
        res_html = (
            f"<span class=st-regressed>regressed</span>: resolved in "
            f"{_release_link(last.get('resolved_release'))}, seen again in "
            f"{_release_link(last.get('release'))}"
        )
    elif row["status"] == "ignored":
        res_html = "<span class=muted>ignored (muted by hand: new events leave it so)</span>"
    else:
        res_html = "<span class=muted>unresolved</span>"
    first = insights.release_version(store, row["first_release_id"])
    last_rel = insights.release_version(store, row["last_release_id"])
    facts = [
        ["short ID", f"<b class=short-id>{e(insights.short_id_of(store, row))}</b>"],
        ["status", _status(row)],
        ["resolution", res_html],
        [
            "assignee",
            (
                e(who["name"])
                + (f" &lt;{e(who['email'])}&gt;" if who.get("email") else "")
                + f" <span class=muted>({e(who['source'])})"
                "</span>"
            )
            if who
            else "<span class=muted>nobody</span>",
        ],
        ["culprit", e(row["culprit"])],
        ["events", e(row["times_seen"])],
        ["first seen", f"{e(row['first_seen'])} in {_release_link(first)}"],
        ["last seen", f"{e(row['last_seen'])} in {_release_link(last_rel)}"],
    ]
    suspect_rows = [
        [
            f"<code>{e(c['key'][:12])}</code>",
            _release_link(c["release"]),
            e(c.get("author_name")),
            e((c.get("message") or "").split("\n", 1)[0]),
            "<br>".join(e(f) for f in c["files"]),
            e(c["frames_touched"]),
        ]
        for c in suspects
    ]
    release_rows = [
        [
            _release_link(r["version"]),
            e(r["environment"] or "(none)"),
            e(r["times_seen"]),
            e(r["first_seen"]),
            e(r["last_seen"]),
        ]
        for r in insights.group_releases(store, row["id"])
    ]
    event_rows = [
        [
            f'<a href="/events/{e(quote(ev["event_id"]))}/"><code>'
            f"{e(ev['event_id'][:12])}</code></a>",
            e(ev["title"]),
            _release_link(ev["release"]),
            e(ev["environment"]),
            e(ev["received"]),
        ]
        for ev in insights.group_events(store, row["id"], 50)
    ]
    body = (
        EXTRA_STYLE
        + f"<h2 class=title>{e(row['title'])}</h2>"
        + "<section class=card>"
        + _table(["", ""], facts, "")
        + "</section>"
        "<section class=card id=suspects><h3>Suspect commits</h3>"
        + _table(
            ["commit", "release", "author", "message", "files in the trace", "frames"],
            suspect_rows,
            "no commit of its releases touched its frames",
        )
        + "</section><section class=card><h3>Releases</h3>"
        + _table(
            ["release", "environment", "events", "first seen", "last seen"],
            release_rows,
            "no releases",
        )
        + "</section><section class=card id=events><h3>Events</h3>"
        + _table(["event", "title", "release", "environment", "received"], event_rows, "no events")
        + "</section>"
    )
    return _page(f"{insights.short_id_of(store, row)} {row['title']}", body)
