"""The collector's WSGI application: routes requests to ingest, Web API and page handlers."""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from releasetag.collector.db.store import Store

from . import (
    attachments,
    ingest,
    issue_actions,
    issue_pages,
    issue_stream,
    issues_api,
    login,
    logs_api,
    logs_pages,
    monitor_pages,
    pages,
    release_list,
    sessions_api,
    webapi,
)
from .context import TooManyFailures
from .request_response import HTTPError, Request, Response, error_response, json_response
from .webapi import Context

log = logging.getLogger("releasetag.collector")

_INGEST_PATH = re.compile(r"^/api/\d+/(envelope|store)/?$")

PAGE = "page"  # a route's ``needs_token``: a page (open on loopback, else the token or login)
Route = Tuple[str, "re.Pattern[str]", Callable[..., Response], Any]


def _compile(
    method: str, pattern: str, handler: Callable[..., Response], needs_token: Any
) -> Route:
    return method, re.compile("^" + pattern + "$"), handler, needs_token


# conditions of the machine, not bugs: (status, detail) of the answer, and one log line
STORAGE_REFUSALS = {
    "disk full": (507, "the collector's disk is full: nothing was stored (free space, send again)"),
    "database busy": (503, "the collector's database is busy: nothing was stored (send again)"),
}


def storage_condition(exc: BaseException) -> Optional[str]:
    """``disk full`` or ``database busy`` when ``exc`` says so, else None (a bug)."""
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "database or disk is full" in text:
            return "disk full"
        if "database is locked" in text or "database is busy" in text:
            return "database busy"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "disk full"
    return None


class RefusalLog:
    """One log line per condition and ``every`` seconds, counting the refusals between."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._last: Dict[str, float] = {}
        self._quiet: Dict[str, int] = {}

    def note(self, condition: str, exc: BaseException, status: int) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(condition)
            if last is not None and now - last < self.every:
                self._quiet[condition] = self._quiet.get(condition, 0) + 1
                return
            self._last[condition] = now
            quiet = self._quiet.pop(condition, 0)
        more = f"; {quiet} more refused since the last line" if quiet else ""
        log.warning("refusing requests (%s): %s: %s%s", status, condition, exc, more)


class CollectorApp:
    """WSGI callable. ``ctx`` holds the store, org and API token."""

    def __init__(
        self, store: Store, org: str, token: str, mailer: Any = None, access: Any = None
    ) -> None:
        self.ctx = Context(store, org, token, mailer, access)
        self.refusals = RefusalLog()
        routes: List[Route] = [
            _compile("POST", r"/api/(?P<project_id>[^/]+)/envelope/", self._envelope, False),
            _compile("POST", r"/api/(?P<project_id>[^/]+)/store/", self._store, False),
            _compile("GET", r"/", pages.index, PAGE),
            _compile("GET", r"/events/(?P<event_id>[^/]+)/", pages.event_page, PAGE),
            _compile(
                "GET",
                r"/events/(?P<event_id>[^/]+)/attachments/(?P<attachment_id>[^/]+)/",
                attachments.download,
                PAGE,
            ),
            _compile("GET", r"/events/", issue_stream.events_page, PAGE),
            _compile("GET", r"/releases/", release_list.releases_page, PAGE),
            _compile("GET", r"/issues/", issue_stream.issues_page, PAGE),
            _compile("POST", r"/issues/(?P<issue_id>[^/]+)/actions/", issue_actions.submit, PAGE),
            _compile("GET", r"/releases/(?P<version>[^/]+)/", issue_pages.release_page, PAGE),
            _compile("GET", r"/issues/(?P<issue_id>[^/]+)/", issue_pages.issue_page, PAGE),
            _compile("GET", r"/monitors/", monitor_pages.monitors_page, PAGE),
            _compile("GET", r"/logs/", logs_pages.logs_page, PAGE),
            _compile("GET", r"/login/", login.form, False),
            _compile("POST", r"/login/", login.submit, False),
            _compile("GET", r"/health", lambda ctx, req: json_response({"ok": True}), False),
        ]
        routes += [
            _compile(m, p, h, True)  # type: ignore[arg-type]
            for m, p, h in webapi.ROUTES + issues_api.ROUTES + sessions_api.ROUTES + logs_api.ROUTES
        ]
        routes.append(_compile("GET", monitor_pages.API_ROUTE, monitor_pages.monitors_api, True))
        self.routes = routes

    def _envelope(self, ctx: Context, req: Request, project_id: str) -> Response:
        return ingest.handle_envelope(ctx.store, req, project_id)

    def _store(self, ctx: Context, req: Request, project_id: str) -> Response:
        return ingest.handle_store(ctx.store, req, project_id)

    def dispatch(self, req: Request) -> Response:
        path = req.path if req.path.endswith("/") or req.path in ("/health",) else req.path + "/"
        allowed = []
        for method, pattern, handler, needs_token in self.routes:
            match = pattern.match(path) or pattern.match(req.path)
            if not match:
                continue
            if method != req.method and not (method == "GET" and req.method == "HEAD"):
                allowed.append(method)
                continue
            if needs_token == PAGE:
                refused = login.gate(self.ctx, req)
                if refused is not None:
                    return refused
            elif needs_token:
                webapi.check_token(self.ctx, req)
            return handler(self.ctx, req, **match.groupdict())
        if req.method == "OPTIONS" and allowed:
            return Response(b"", 200, "text/plain", [("Allow", ", ".join(sorted(set(allowed))))])
        if allowed:
            raise HTTPError(
                405,
                f"method {req.method} is not allowed here (use {', '.join(sorted(set(allowed)))})",
            )
        raise HTTPError(404, f"no such endpoint: {req.method} {req.path}")

    def __call__(self, environ: Dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        req = Request(environ)
        try:
            if not self.ctx.access.host_allowed(
                req.header("Host"), environ.get("releasetag.local_addr")
            ):
                raise HTTPError(
                    421,
                    f"this collector does not answer to the name {req.header('Host')!r} "
                    "(serve --allowed-host NAME adds one)",
                )
            resp = self.dispatch(req)
        except HTTPError as exc:
            resp = error_response(exc)
            if isinstance(exc, TooManyFailures):
                resp.headers.append(("Retry-After", str(exc.retry_after)))
        except Exception as exc:  # a full disk, or a collector bug: answer, keep serving
            resp = self._failure(req, exc)
        if resp.status >= 400 and resp.status not in (503, 507):  # those: RefusalLog
            log.info("%s %s -> %s", req.method, req.path, resp.status)
        if req.method == "HEAD":
            resp.body = b""
        if _INGEST_PATH.match(req.path):  # browser SDKs post envelopes cross-origin
            resp.headers += [
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Sentry-Auth"),
                ("Access-Control-Expose-Headers", "X-Sentry-Rate-Limits, Retry-After"),
            ]
        return resp(start_response)

    def _failure(self, req: Request, exc: Exception) -> Response:
        condition = storage_condition(exc)
        if condition is None:  # a bug: its traceback goes to the log
            log.exception("error handling %s %s", req.method, req.path)
            return error_response(HTTPError(500, "internal error in the collector (see its log)"))
        status, detail = STORAGE_REFUSALS[condition]
        self.refusals.note(condition, exc, status)
        resp = error_response(HTTPError(status, detail))
        resp.headers.append(("Retry-After", "60" if status == 507 else "5"))
        return resp


def make_app(
    store: Store, org: str, token: str, mailer: Any = None, access: Any = None
) -> CollectorApp:
    """Build the WSGI app around an open store (``mailer``: deploy mail, see notify.py;
    ``access``: who may reach what, see access.py)."""
    return CollectorApp(store, org, token, mailer, access)
