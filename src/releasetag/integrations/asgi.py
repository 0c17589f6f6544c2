"""ASGI 3 middleware: one isolation scope per HTTP or websocket connection, request data on its
events, and every exception the app raises reported as unhandled (mechanism ``asgi``).

>>> app = ReleasetagAsgiMiddleware(app)

No framework is imported. ``lifespan`` and any other scope type go to the app untouched.
Request data (method, URL without query, query string, headers, the client address only with
``send_default_pii``) is built only when an event is captured. Responses whose status is in
``failed_request_status_codes`` (none by default) are reported too: the exception being handled
when the response started (a framework's HTTPException), else a message. The Starlette and
Django integrations run their apps through :func:`run_asgi` with their own route names.
Servers tell ASGI 3 apps by ``async def __call__``, so the middleware keeps that form.
"""

from __future__ import annotations

import asyncio
import sys
import weakref

from ..current import get_client
from ..scope import Scope, get_isolation_scope, use_isolation_scope
from ..scrub import scrub_request
from . import Integration
from ._request import SCOPE_KEY, Middleware, RequestProcessor, first_client_ip
from ._trace import continue_trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable, Dict, List, Optional

    #: the route template of a request (from its ASGI scope), or None when not known
    RouteName = Callable[[Dict[str, Any]], Optional[str]]

_KINDS = ("http", "websocket")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_TRACE_HEADER = b"sentry-trace"


class AsgiIntegration(Integration):
    """Marker for ``sdk.integrations``; the middleware itself is applied by the app."""

    identifier = "asgi"

    def setup(self, client: Any) -> None:
        pass


def _text(raw: Any) -> str:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("latin-1")
    return str(raw)


def _header_pairs(asgi_scope: Dict[str, Any]) -> Any:
    """The scope's header pairs; nothing when the server put something else there."""
    pairs = asgi_scope.get("headers")
    return pairs if isinstance(pairs, (list, tuple)) else ()


def request_headers(asgi_scope: Dict[str, Any]) -> Dict[str, str]:
    """Header names as sent (lowercase in ASGI); repeated headers joined with ", "."""
    headers: Dict[str, str] = {}
    for pair in _header_pairs(asgi_scope):
        try:
            name, value = _text(pair[0]), _text(pair[1])
        except Exception:
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def request_path(asgi_scope: Dict[str, Any]) -> str:
    """root_path + path (frameworks that already put root_path into path are left alone)."""
    path = str(asgi_scope.get("path") or "")
    root = str(asgi_scope.get("root_path") or "")
    if not root or path == root or path.startswith(root + "/"):
        return path or "/"
    return root + path


def request_url(asgi_scope: Dict[str, Any], headers: Dict[str, str]) -> str:
    """scheme://host/path of the request, without the query string."""
    kind = asgi_scope.get("type")
    scheme = str(asgi_scope.get("scheme") or ("ws" if kind == "websocket" else "http"))
    host = headers.get("host")
    if not host:
        server = asgi_scope.get("server")
        try:
            name, port = server[0], server[1]  # type: ignore[index]
            host = str(name) if _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
        except Exception:
            host = ""
    return f"{scheme}://{host}{request_path(asgi_scope)}"


def client_ip(asgi_scope: Dict[str, Any], headers: Dict[str, str]) -> Optional[str]:
    """The client address of an ASGI connection (see :func:`first_client_ip`)."""
    client = asgi_scope.get("client")
    try:
        peer = str(client[0]) if client else None
    except Exception:
        peer = None
    return first_client_ip(headers.get("x-forwarded-for"), headers.get("x-real-ip"), peer)


def request_data(asgi_scope: Dict[str, Any], send_default_pii: bool = False) -> Dict[str, Any]:
    """The event's ``request`` for an ASGI scope (PII blanked unless ``send_default_pii``)."""
    headers = request_headers(asgi_scope)
    data: Dict[str, Any] = {
        "url": request_url(asgi_scope, headers),
        "query_string": _text(asgi_scope.get("query_string") or b""),
        "headers": headers,
    }
    if asgi_scope.get("type") == "http":
        data["method"] = str(asgi_scope.get("method") or "").upper()
    if send_default_pii:
        ip = client_ip(asgi_scope, headers)
        if ip:
            data["env"] = {"REMOTE_ADDR": ip}
    else:
        scrub_request(data)
    return data


class _AsgiProcessor(RequestProcessor):
    """The request processor of an ASGI connection (and the small body kept for it)."""

    __slots__ = ("body",)

    def __init__(
        self, asgi_scope: Dict[str, Any], scope: Scope, route: Optional[RouteName]
    ) -> None:
        super().__init__(asgi_scope, scope, route)
        self.body: Optional[_BodyRecorder] = None

    def path(self) -> str:
        return request_path(self.carrier)

    def request(self, pii: bool) -> Dict[str, Any]:
        data = request_data(self.carrier, pii)
        if self.body is not None:
            body = self.body.data(data["headers"])
            if body is not None:
                data["data"] = body
        return data

    def client_ip(self) -> Optional[str]:
        return client_ip(self.carrier, request_headers(self.carrier))


def _trace_header(asgi_scope: Dict[str, Any]) -> Optional[str]:
    for pair in _header_pairs(asgi_scope):
        try:
            if pair[0] == _TRACE_HEADER:
                return _text(pair[1])
        except Exception:
            return None
    return None


def _capture(exc: BaseException, mechanism: str, handled: bool = False) -> None:
    client = get_client()
    if client is not None:
        client.capture_exception(exc, handled=handled, mechanism_type=mechanism)


async def run_asgi(
    app: Callable[..., Awaitable[Any]],
    asgi_scope: Any,
    receive: Callable[..., Any],
    send: Callable[..., Any],
    mechanism: str = "asgi",
    route: Optional[RouteName] = None,
    capture_body: bool = False,
    failed: Any = None,
) -> Any:
    """Run one ASGI 3 connection of ``app`` under its own isolation scope. ``route`` names
    the matched route; ``capture_body`` keeps a small request body for events when
    ``send_default_pii`` is on."""
    client = get_client()
    if (
        client is None
        or client.transport is None
        or type(asgi_scope) is not dict
        or asgi_scope.get("type") not in _KINDS
        or SCOPE_KEY in asgi_scope
    ):
        return await app(asgi_scope, receive, send)
    _check_loop()
    scope = get_isolation_scope().fork()
    processor = _AsgiProcessor(asgi_scope, scope, route)
    scope.event_processors.append(processor)
    header = _trace_header(asgi_scope)
    if header:
        continue_trace(scope, header)
    asgi_scope[SCOPE_KEY] = weakref.ref(scope)  # no reference cycle for the gc to find
    options = client.options
    if capture_body and options.send_default_pii and asgi_scope["type"] == "http":
        receive = processor.body = _BodyRecorder(receive)
    if failed is None:  # the integration's failed_request_status_codes, else the option's
        failed = options.failed_request_status_codes
    watcher = _StatusWatcher(send, failed, mechanism) if failed else None
    sessions = client.sessions
    session = scope.session = sessions.start_request() if sessions is not None else None
    with use_isolation_scope(scope):
        try:
            return await app(asgi_scope, receive, send if watcher is None else watcher)
        except Exception as exc:
            _capture(exc, mechanism)
            raise
        finally:
            if watcher is not None:
                watcher.report(processor)
            scope.session = None
            if session is not None:
                sessions.end_request(session)  # type: ignore[union-attr]


_seen_loop: List[Any] = [None]  # the last event loop handed to the asyncio integration


def _check_loop() -> None:
    """Once per event loop: let the asyncio integration watch a loop it could not patch."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # trio, or no loop
        return
    if loop is not _seen_loop[0]:
        _seen_loop[0] = loop
        from .asyncio import watch_loop

        watch_loop(loop)


MAX_BODY = 10 * 1024  # bytes of request body kept for events (send_default_pii only)


class _BodyRecorder:
    """The ``receive`` an app gets when small bodies go into events: it keeps the body's
    bytes up to MAX_BODY (more: none of it) and passes every message on unchanged."""

    __slots__ = ("receive", "chunks", "size")

    def __init__(self, receive: Callable[..., Any]) -> None:
        self.receive = receive
        self.chunks: List[bytes] = []
        self.size = 0

    async def __call__(self) -> Any:
        message = await self.receive()
        try:
            if message.get("type") == "http.request" and self.size <= MAX_BODY:
                chunk = message.get("body") or b""
                self.size += len(chunk)
                if self.size <= MAX_BODY:
                    self.chunks.append(bytes(chunk))
                else:
                    self.chunks = []
        except Exception:
            pass
        return message

    def data(self, headers: Dict[str, str]) -> Any:
        """The body for ``request.data``: parsed JSON, else text; None when empty or large."""
        if not self.chunks or self.size > MAX_BODY:
            return None
        raw = b"".join(self.chunks)
        if "json" in headers.get("content-type", ""):
            import json

            try:
                return json.loads(raw)
            except ValueError:
                pass
        return raw.decode("utf-8", "replace")


class _StatusWatcher:
    """The ``send`` an app gets when some statuses count as failures: it notes the status and
    the exception being handled as the response starts (a framework's HTTPException)."""

    __slots__ = ("send", "failed", "mechanism", "status", "exc")

    def __init__(self, send: Callable[..., Any], failed: Any, mechanism: str) -> None:
        self.send = send
        self.failed = failed
        self.mechanism = mechanism
        self.status: Optional[int] = None
        self.exc: Optional[BaseException] = None

    def __call__(self, message: Any) -> Any:
        try:
            if message.get("type") == "http.response.start" and self.status is None:
                status = message.get("status")
                if isinstance(status, int) and status in self.failed:
                    self.status = status
                    self.exc = sys.exc_info()[1]
        except Exception:
            pass  # a malformed message is the server's to refuse
        return self.send(message)

    def report(self, processor: _AsgiProcessor) -> None:
        """After the response: report a failed status unless the request already reported an
        error (Django's got_request_exception, an exception the middleware saw)."""
        status, exc, self.exc = self.status, self.exc, None
        if status is None or processor.errors:
            return
        if exc is not None:
            _capture(exc, self.mechanism, handled=True)
            return
        processor.report_status(status, str(processor.carrier.get("method") or ""))


class ReleasetagAsgiMiddleware(Middleware):
    """Wrap an ASGI 3 app so that its errors are reported with the request's data."""

    default_mechanism = "asgi"

    async def __call__(
        self, scope: Any, receive: Callable[..., Any], send: Callable[..., Any]
    ) -> Any:
        return await run_asgi(self.app, scope, receive, send, self.mechanism, self.route)


__all__: List[str] = ["ReleasetagAsgiMiddleware", "request_data", "run_asgi"]


#: sentry-sdk's name for the ASGI middleware
SentryAsgiMiddleware = ReleasetagAsgiMiddleware
