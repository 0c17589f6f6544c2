"""``/login/``: where a browser gives the collector's token once and gets a page session in
return (a random id in an HttpOnly, SameSite=Strict cookie; see ``access.py``), and the
gate that sends page requests without one to the form."""

from __future__ import annotations

from typing import Optional
from urllib.parse import parse_qs

from .context import Context, TooManyFailures, client_of
from .html import html
from .pages import page
from .request_response import Request, Response, html_response


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


def _too_many(wait: float) -> Response:
    """429 with the form's page and ``Retry-After``."""
    refused = TooManyFailures(wait)
    resp = page("Sign in", html("<h2>Sign in</h2><p>{}.</p>", refused.detail.capitalize()))
    resp.status = 429
    resp.headers.append(("Retry-After", str(refused.retry_after)))
    return resp


def required(ctx: Context, req: Request) -> Response:
    """A page asked for without the token: 401 with the sign-in form."""
    return _form("This collector's pages need its token.", 401)


def gate(ctx: Context, req: Request) -> Optional[Response]:
    """None when a page request may in (open pages, a live session or the token as
    ``Authorization: Bearer``); else the sign-in form, or 429 after too many wrong tokens."""
    access = ctx.access
    if access.page_allowed(None, req.header("Cookie")):
        return None
    authorization = req.header("Authorization")
    if not authorization:
        return required(ctx, req)
    client = client_of(req)
    wait = access.failures.wait(client)
    if wait:
        return _too_many(wait)
    if access.page_allowed(authorization, None):
        return None
    access.failures.failed(client)
    return required(ctx, req)


def form(ctx: Context, req: Request) -> Response:
    """``GET /login/``: the sign-in form."""
    return _form("Give the collector's token to open its pages.", 200)


def submit(ctx: Context, req: Request) -> Response:
    """``POST /login/``: a new page session for the right token (303 to ``/``)."""
    client = client_of(req)
    wait = ctx.access.failures.wait(client)
    if wait:
        return _too_many(wait)
    fields = parse_qs(req.body(4096, 4096).decode("utf-8", "replace"))
    token = (fields.get("token") or [""])[-1]
    if not ctx.access.token_matches(token):
        ctx.access.failures.failed(client)
        return _form("That is not this collector's token.", 401)
    resp = html_response("", 303)
    resp.headers += [
        ("Location", "/"),
        ("Set-Cookie", ctx.access.session_cookie(ctx.access.sessions.start())),
    ]
    return resp
