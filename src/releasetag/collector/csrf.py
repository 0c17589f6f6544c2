"""Cross-site request protection of the pages' forms.

- Every form carries a token derived from the browser's session: the page session id when
  signed in (``/login/``), else a random id the collector hands the browser in its own
  cookie (``releasetag_csrf_PORT``; HttpOnly, SameSite=Strict). The token is an HMAC of that
  id under the collector's secret token, so another site can neither read nor make it.
- A post must name this collector in ``Origin`` (or, without one, ``Referer``), and
  ``Sec-Fetch-Site``, when the browser sends it, must be ``same-origin``.
- Forms only post; no page changes anything on a GET.
Anything else is refused with 403 before anything changes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

from .access import cookie_value
from .context import Context
from .html import Html, html
from .request_response import HTTPError, Request

FIELD = "csrf"


def cookie_name(ctx: Context) -> str:
    return ctx.access.cookie.replace("session", "csrf", 1)


def _session_id(ctx: Context, req: Request) -> Optional[str]:
    """The id the token is bound to: a live page session, else this browser's csrf cookie."""
    cookies = req.header("Cookie") or ""
    sid = cookie_value(cookies, ctx.access.cookie)
    if sid and ctx.access.sessions.valid(sid):
        return "session:" + sid
    own = cookie_value(cookies, cookie_name(ctx))
    return "browser:" + own if own and len(own) >= 32 else None


def _token(ctx: Context, sid: str) -> str:
    key = ctx.access.token.encode("utf-8")
    return hmac.new(key, ("csrf " + sid).encode("utf-8"), hashlib.sha256).hexdigest()


def issue(ctx: Context, req: Request) -> Tuple[str, Optional[str]]:
    """(the token for forms on this page, a Set-Cookie value when the browser needs one)."""
    sid = _session_id(ctx, req)
    if sid is not None:
        return _token(ctx, sid), None
    fresh = secrets.token_urlsafe(32)
    cookie = f"{cookie_name(ctx)}={fresh}; Path=/; HttpOnly; SameSite=Strict"
    return _token(ctx, "browser:" + fresh), cookie


def hidden(token: str) -> Html:
    return html('<input type=hidden name="{}" value="{}">', FIELD, token)


def _same_origin(req: Request) -> bool:
    host = (req.header("Host") or "").lower()
    source = req.header("Origin") or req.header("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == host


def check(ctx: Context, req: Request, fields: Dict[str, str]) -> None:
    """Refuse (403) a form post not made by this collector's own page in this browser."""
    site = req.header("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        raise HTTPError(403, f"refused: the form was posted from another site ({site})")
    if not _same_origin(req):
        raise HTTPError(403, "refused: the form post does not come from this collector's pages")
    sid = _session_id(ctx, req)
    given = fields.get(FIELD, "")
    if sid is None or not given or not hmac.compare_digest(given, _token(ctx, sid)):
        raise HTTPError(403, "refused: the form's token is missing or wrong (reload the page)")
