"""The issue page's actions as forms: resolve, resolve in the next release, ignore,
unresolve, assign to a commit author. ``POST /issues/{id}/actions/`` applies one through the
same functions as the issues API (``insights.update_status``/``assign``), after the checks
of ``csrf.py``; a refused post changes nothing. Then 303 back to the issue."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from . import csrf, insights
from .context import Context
from .html import Html, html, join
from .insights import Issue
from .request_response import HTTPError, Request, Response, html_response

# action -> (button text, status for insights.update_status, statuses it is offered in)
ACTIONS: Dict[str, Tuple[str, str, Tuple[str, ...]]] = {
    "resolve": ("Resolve", "resolved", ("unresolved", "regressed", "ignored")),
    "resolve_next": (
        "Resolve in next release",
        "resolvedInNextRelease",
        ("unresolved", "regressed", "ignored"),
    ),
    "ignore": ("Ignore", "ignored", ("unresolved", "regressed")),
    "unresolve": ("Unresolve", "unresolved", ("resolved", "ignored")),
}
MAX_FORM = 4096


def _form(issue_id: Any, token: str, action: str, label: str, extra: str = "") -> Html:
    return html(
        '<form class=action method=post action="/issues/{}/actions/">{}'
        '<input type=hidden name=action value="{}">{}<button type=submit>{}</button></form>',
        issue_id,
        csrf.hidden(token),
        action,
        extra,
        label,
    )


def authors(suspects: List[Dict[str, Any]]) -> List[str]:
    """``Name <email>`` of the suspect commits' authors, each once, in suspect order."""
    out: List[str] = []
    for c in suspects:
        name, email = c.get("author_name"), c.get("author_email")
        who = f"{name} <{email}>" if name and email else (email or name)
        if who and who not in out:
            out.append(str(who))
    return out


def card(row: Issue, token: str, suspects: List[Dict[str, Any]]) -> Html:
    """The actions offered for the issue's status, and assignment to a commit author."""
    forms = [
        _form(row["id"], token, action, label)
        for action, (label, _status, offered) in ACTIONS.items()
        if row["status"] in offered
    ]
    people = authors(suspects)
    if people:
        options = join(html('<option value="{}">{}</option>', p, p) for p in people)
        select = html(
            '<label>Assign to <select name=assignee><option value="">nobody</option>{}</select>'
            "</label> ",
            options,
        )
        forms.append(_form(row["id"], token, "assign", "Assign", select))
    return html("<section class=card id=actions><h3>Actions</h3>{}</section>", join(forms))


def _fields(req: Request) -> Dict[str, str]:
    if "application/x-www-form-urlencoded" not in (req.header("Content-Type") or ""):
        raise HTTPError(415, "the actions take a form (application/x-www-form-urlencoded)")
    parsed = parse_qs(req.body(MAX_FORM, MAX_FORM).decode("utf-8", "replace"))
    return {k: v[-1] for k, v in parsed.items()}


def _apply(ctx: Context, row: Issue, fields: Dict[str, str]) -> None:
    action = fields.get("action", "")
    if action == "assign":
        who: Optional[str] = fields.get("assignee", "")
        suspects = insights.suspect_commits(ctx.store, row)
        if who and who not in authors(suspects):
            raise HTTPError(400, "assign to one of the issue's commit authors (or nobody)")
        insights.assign(ctx.store, row, who or None)
        return
    if action not in ACTIONS:
        raise HTTPError(400, f"unknown action {action[:40]!r} (use {', '.join(ACTIONS)} or assign)")
    try:
        insights.update_status(ctx.store, row, ACTIONS[action][1], {})
    except insights.InsightError as exc:
        raise HTTPError(400, str(exc)) from None


def submit(ctx: Context, req: Request, issue_id: str) -> Response:
    """``POST /issues/{id}/actions/``: checked (csrf.py), applied, then 303 to the issue."""
    fields = _fields(req)
    csrf.check(ctx, req, fields)
    row = insights.group(ctx.store, issue_id)
    if row is None:
        raise HTTPError(404, f"issue {issue_id} does not exist")
    _apply(ctx, row, fields)
    resp = html_response("", 303)
    resp.headers.append(("Location", f"/issues/{row['id']}/"))
    return resp
