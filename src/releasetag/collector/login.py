"""``/login/``: where a browser gives the collector's token once, off loopback, and keeps it
in a cookie (HttpOnly, SameSite=Strict) for the pages."""

from __future__ import annotations

from urllib.parse import parse_qs

from .access import COOKIE
from .context import Context
from .html import html
from .http import Request, Response, html_response
from .pages import page


def _form(message: str, status: int) -> Response:
    body = html(
        "<h2>Sign in</h2><p>{}</p>"
        '<form method=post action="/login/"><label>Token <input type=password name=token '
        "autocomplete=current-password></label> <button type=submit>Open the pages</button>"
        "</form><p class=muted>The token is printed by <code>releasetag serve</code> "
        "(<code>token:</code>); the Web API takes it as <code>Authorization: Bearer</code>.</p>",
        message,
    )
    resp = page("Sign in", body)
    resp.status = status
    return resp


def required(ctx: Context, req: Request) -> Response:
    """A page asked for without the token: 401 with the sign-in form."""
    return _form("This collector listens beyond this machine: its pages need its token.", 401)


def form(ctx: Context, req: Request) -> Response:
    return _form("Give the collector's token to open its pages.", 200)


def submit(ctx: Context, req: Request) -> Response:
    fields = parse_qs(req.body(4096, 4096).decode("utf-8", "replace"))
    token = (fields.get("token") or [""])[-1]
    if not ctx.access.token_matches(token):
        return _form("That is not this collector's token.", 401)
    resp = html_response("", 303)
    resp.headers += [
        ("Location", "/"),
        ("Set-Cookie", f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
    ]
    return resp
