"""Server-rendered HTML pages of the collector. Every value goes through ``e()`` (html.escape)."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Dict, List
from urllib.parse import quote

from .context import Context
from .http import HTTPError, Request, Response, html_response

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
"""


def e(value: Any) -> str:
    """HTML-escape any value (None shows as an empty string)."""
    return "" if value is None else escape(str(value), quote=True)


def _page(title: str, body: str) -> Response:
    return html_response(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{e(title)} - releasetag collector</title><style>{STYLE}</style></head><body>"
        '<header><h1><a href="/">releasetag collector</a></h1></header>'
        f"<main>{body}</main></body></html>"
    )


def _table(headers: List[str], rows: List[List[str]], empty: str) -> str:
    if not rows:
        return f"<p class=muted>{e(empty)}</p>"
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def index(ctx: Context, req: Request) -> Response:
    """``/``: releases newest first with events, environments, commits, deploys, artifacts."""
    store = ctx.store
    sections = []
    projects = store.projects()
    project = projects[0] if projects else None
    for rel in store.releases():
        version = rel["version"]
        counts = store.event_counts(version)
        total = sum(c["count"] for c in counts)
        envs = "".join(
            f"<span class=badge>{e(c['environment'] or '(none)')}: {e(c['count'])}</span>"
            for c in counts
        )
        commits = store.release_commits(rel["id"])
        commit_rows = [
            [
                f"<code>{e(c['key'][:12])}</code>",
                e(c["repo_name"]),
                e(c.get("author_name")),
                e((c.get("message") or "").split("\n", 1)[0]),
                "<br>".join(f"{e(f['type'])} {e(f['path'])}" for f in c["files"]),
            ]
            for c in commits
        ]
        deploy_rows = [
            [e(d["environment"]), e(d["name"]), e(d["date_finished"]), e(d["url"])]
            for d in store.deploys(rel["id"])
        ]
        artifact_rows = [
            [
                e(a["name"]),
                e(a["type"]),
                f"<code>{e(a['debug_id'])}</code>",
                e(a["dist"]),
                e(a["size"]),
            ]
            for a in store.release_artifacts(version)
        ]
        event_rows = []
        if project is not None:
            for ev in store.events(project["id"], release=version, limit=10):
                link = f"/events/{quote(ev['event_id'])}/"
                event_rows.append(
                    [
                        f"<span class=level-{e(ev['level'])}>{e(ev['level'])}</span>",
                        f'<a href="{e(link)}">{e(ev["title"])}</a>',
                        e(ev["environment"]),
                        e(ev["received"]),
                    ]
                )
        status = " <span class=badge>archived</span>" if rel["status"] == "archived" else ""
        sections.append(
            f'<section class=release id="release-{e(version)}"><h2><a href="/releases/'
            f'{e(quote(version, safe=""))}/">{e(version)}</a>{status}</h2>'
            f"<div class=muted>created {e(rel['date_created'])}"
            f"{' &middot; released ' + e(rel['date_released']) if rel['date_released'] else ''}"
            f" &middot; <b class=events>{e(total)}</b> events</div><div>{envs}</div>"
            "<h3>Events</h3>"
            + _table(["level", "title", "environment", "received"], event_rows, "no events")
            + "<h3>Commits</h3>"
            + _table(
                ["commit", "repository", "author", "message", "files"], commit_rows, "no commits"
            )
            + "<h3>Deploys</h3>"
            + _table(["environment", "name", "finished", "url"], deploy_rows, "no deploys")
            + "<h3>Artifacts</h3>"
            + _table(["name", "type", "debug id", "dist", "bytes"], artifact_rows, "no artifacts")
            + "</section>"
        )
    unreleased = project is not None and store.count_events_without_release()
    if unreleased:
        sections.append(
            f"<section class=release><h2>(no release)</h2>"
            f"<div class=muted>{e(unreleased)} events without a release</div></section>"
        )
    body = "".join(sections) or "<p class=muted>No releases or events yet.</p>"
    return _page("Releases", "<h2>Releases</h2>" + body)


def _frames_html(frames: List[Dict[str, Any]]) -> str:
    out = []
    for f in reversed(frames):  # most recent call first, as people read traces
        if not isinstance(f, dict):
            continue
        where = (
            f"<code>{e(f.get('filename') or f.get('abs_path') or f.get('module'))}</code> "
            f"in <code>{e(f.get('function'))}</code> line {e(f.get('lineno'))}"
        )
        lines = []
        for pre in (f.get("pre_context") or [])[-2:]:
            lines.append(e(pre))
        if f.get("context_line") is not None:
            lines.append(f"<b>{e(f.get('context_line'))}</b>")
        for post in (f.get("post_context") or [])[:2]:
            lines.append(e(post))
        ctx_html = f"<pre class=ctx>{chr(10).join(lines)}</pre>" if lines else ""
        cls = "frame inapp" if f.get("in_app") else "frame"
        out.append(f'<div class="{cls}">{where}{ctx_html}</div>')
    return "".join(out)


def _issue_link(ctx: Context, group_id: Any) -> str:
    from .insights import group, short_id_of

    issue = group(ctx.store, str(group_id)) if group_id else None
    if issue is None:
        return ""
    return (
        f'<a href="/issues/{e(issue["id"])}/">{e(short_id_of(ctx.store, issue))}</a> '
        f"<span class=muted>({e(issue['status'])})</span>"
    )


def event_page(ctx: Context, req: Request, event_id: str) -> Response:
    """``/events/{id}/``: title, release, environment, tags and the stack trace."""
    row = ctx.store.event(event_id)
    if row is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    event = json.loads(row["payload"])
    tags = event.get("tags") or {}
    if isinstance(tags, dict):
        tags = list(tags.items())
    tag_rows = [[e(t[0]), e(t[1])] for t in tags if isinstance(t, (list, tuple)) and len(t) == 2]
    facts = [
        ["event id", f"<code>{e(row['event_id'])}</code>"],
        ["level", e(row["level"])],
        ["message", e(row["message"])],
        ["logger", e(event.get("logger"))],
        ["release", e(row["release"])],
        ["environment", e(row["environment"])],
        ["timestamp", e(row["timestamp"])],
        ["received", e(row["received"])],
        ["culprit", e(row["culprit"])],
        ["issue", _issue_link(ctx, row["group_id"])],
    ]
    values = event.get("exception") or {}
    values = values.get("values") if isinstance(values, dict) else values
    traces = []
    for exc in values if isinstance(values, list) else []:
        if not isinstance(exc, dict):
            continue
        frames = (
            (exc.get("stacktrace") or {}).get("frames") or []
            if isinstance(exc.get("stacktrace"), dict)
            else []
        )
        traces.append(
            f"<h3>{e(exc.get('type'))}: {e(exc.get('value'))}</h3>" + _frames_html(frames)
        )
    body = (
        f"<h2 class=title>{e(row['title'])}</h2>"
        + _table(["", ""], facts, "")
        + "<h3>Tags</h3>"
        + _table(["key", "value"], tag_rows, "no tags")
        + "<h3>Stack trace</h3>"
        + ("".join(reversed(traces)) or "<p class=muted>no stack trace</p>")
    )
    return _page(row["title"] or "Event", body)
