"""The Monitors page (``/monitors/``), the release page's check-ins and the Web API list
``GET /api/0/organizations/{org}/monitors/`` in the shape sentry-cli's ``monitors list`` reads.

A monitor's status on the page: ``failing`` while its issue is open, else its last run's
status; the timeline shows its last 30 runs, oldest first.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from .context import Context, require_org
from .html import Html, html, join
from .pages import muted, page, table
from .request_response import Request, Response, json_response

API_ROUTE = r"/api/0/organizations/(?P<org>[^/]+)/monitors/"
TIMELINE = 30
_MARK = {"ok": "✔", "error": "✖", "missed": "○", "timeout": "⌛", "in_progress": "…"}
STYLE = Html(
    "<style>.run{display:inline-block;width:1.2em;text-align:center}"
    ".run-ok{color:#1a7f37}.run-error,.run-timeout,.run-missed{color:#cf222e}"
    ".run-in_progress{color:#9a6700}</style>"
)


def _schedule(config_text: Any) -> str:
    try:
        config = json.loads(config_text or "{}")
        schedule = config.get("schedule") or {}
    except (ValueError, AttributeError):
        return ""
    if schedule.get("type") == "interval":
        return f"every {schedule.get('value')} {schedule.get('unit')}"
    text = str(schedule.get("value") or "")
    return f"{text} ({config['timezone']})" if config.get("timezone") else text


def status_of(store: Any, monitor: Any) -> str:
    group_id = monitor["group_id"]
    if group_id:
        group = store.group_by_id(group_id)
        if group is not None and group["status"] in ("unresolved", "regressed"):
            return "failing"
    return str(monitor["last_status"] or "waiting")


def _timeline(store: Any, monitor_id: int) -> Html:
    runs = list(reversed(store.recent_check_ins(monitor_id, TIMELINE)))
    if not runs:
        return muted("no runs yet")
    return join(
        html(
            '<span class="run run-{}" title="{} {}{}">{}</span>',
            Html(r["status"] if r["status"] in _MARK else "error"),
            r["expected"] or r["date_added"],
            r["status"],
            f" {r['duration']:.1f}s" if r["duration"] is not None else "",
            _MARK.get(r["status"], "?"),
        )
        for r in runs
    )


def monitors_page(ctx: Context, req: Request) -> Response:
    """``/monitors/``: every monitor with its status, schedule and recent runs."""
    store = ctx.store
    rows: List[List[Any]] = []
    for m in store.monitors():
        issue = Html("")
        if m["group_id"]:
            issue = html('<a href="/issues/{}/">issue</a>', m["group_id"])
        rows.append(
            [
                m["slug"],
                html("{} {}", status_of(store, m), issue),
                _schedule(m["config"]),
                m["next_expected"] or "",
                m["last_release"] or "",
                _timeline(store, m["id"]),
            ]
        )
    body = table(
        ["monitor", "status", "schedule", "next run due", "last release", "recent runs"],
        rows,
        "no monitors yet: send a check-in with a monitor_config",
    )
    return page("Monitors", join([STYLE, html("<h2>Monitors</h2>{}", body)]))


def release_check_ins(store: Any, version: str) -> Html:
    """The check-ins the release made (a card of the release page)."""
    rows = [
        [r["slug"], r["status"], r["environment"] or "", r["date_added"], _duration(r)]
        for r in store.release_check_ins(version)
    ]
    content = table(
        ["monitor", "status", "environment", "received", "duration"], rows, "no check-ins"
    )
    return html(
        '<section class=card id=check-ins><h3>Cron check-ins</h3>{}<p><a href="/monitors/">'
        "all monitors</a></p></section>",
        content,
    )


def _duration(row: Any) -> str:
    return f"{row['duration']:.3f}s" if row["duration"] is not None else ""


def monitors_api(ctx: Context, req: Request, org: str) -> Response:
    """``GET /api/0/organizations/{org}/monitors/``: Sentry's monitor objects."""
    require_org(ctx, org)
    store = ctx.store
    out: List[Dict[str, Any]] = []
    for m in store.monitors():
        try:
            config = json.loads(m["config"] or "{}")
        except ValueError:
            config = {}
        status = status_of(store, m)
        out.append(
            {
                "id": str(m["id"]),
                "slug": m["slug"],
                "name": m["slug"],
                "status": "active",
                "type": "cron_job",
                "config": config,
                "dateCreated": m["date_created"],
                "environments": [
                    {
                        "name": m["last_environment"] or "production",
                        "status": "error" if status == "failing" else status,
                        "lastCheckIn": m["last_check_in"],
                        "nextCheckIn": m["next_expected"],
                    }
                ],
            }
        )
    return json_response(out)
