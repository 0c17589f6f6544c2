"""WSGI middleware: one isolation scope per request, request data on its events, and every
error from the app call, the response iteration and ``close()`` reported as unhandled.

>>> app = ReleasetagMiddleware(app)

Request data (method, URL without query, query string, headers, SERVER_NAME/PORT) is built
only when an event is captured. The transaction name is the route template when the framework
integration knows it (Flask's ``url_rule``, Django's URL pattern), else the path. Responses
whose status is in ``failed_request_status_codes`` (none by default) are reported as a message
unless the request already reported an error. Cookie, Authorization, X-Forwarded-For and
similar headers are blanked unless ``send_default_pii``. Responses of type
``wsgi.file_wrapper`` are passed through untouched so that the server can still send the file
efficiently.
"""

from __future__ import annotations

import sys
import weakref
from urllib.parse import quote

from ..current import get_client
from ..scope import Scope, get_isolation_scope, use_isolation_scope
from ..scrub import scrub_request
from . import Integration
from ._request import SCOPE_KEY, Middleware, RequestProcessor, first_client_ip
from ._trace import continue_trace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, Iterator, Optional

    #: the route template of a request (from its environ), or None when not known
    RouteName = Callable[[Dict[str, Any]], Optional[str]]

_ENV_KEYS = ("SERVER_NAME", "SERVER_PORT")


class WsgiIntegration(Integration):
    """Marker for ``sdk.integrations``; the middleware itself is applied by the app."""

    identifier = "wsgi"

    def setup(self, client: Any) -> None:
        pass


def _wsgi_decode(value: str) -> str:
    """PEP 3333 strings carry raw bytes as latin-1; give them back as UTF-8 text."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except Exception:
        return value


def request_url(environ: Dict[str, Any]) -> str:
    """scheme://host/path of the request, without the query string."""
    scheme = environ.get("wsgi.url_scheme") or "http"
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME") or ""
        port = str(environ.get("SERVER_PORT") or "")
        if port and (scheme, port) not in (("http", "80"), ("https", "443")):
            host = f"{host}:{port}"
    path = _wsgi_decode(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    return f"{scheme}://{host}{quote(path, safe='/:@!$&()*+,;=~%')}"


def request_headers(environ: Dict[str, Any]) -> Dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if not value:
                continue
            name = key
        else:
            continue
        headers[name.replace("_", "-").title()] = _wsgi_decode(str(value))
    return headers


def request_data(environ: Dict[str, Any], send_default_pii: bool = False) -> Dict[str, Any]:
    """The event's ``request`` for a WSGI environ (PII blanked unless ``send_default_pii``)."""
    data: Dict[str, Any] = {
        "method": str(environ.get("REQUEST_METHOD") or "").upper(),
        "url": request_url(environ),
        "query_string": _wsgi_decode(environ.get("QUERY_STRING") or ""),
        "headers": request_headers(environ),
        "env": {k: str(environ[k]) for k in _ENV_KEYS if k in environ},
    }
    if send_default_pii:
        if environ.get("REMOTE_ADDR"):
            data["env"]["REMOTE_ADDR"] = environ["REMOTE_ADDR"]
    else:
        scrub_request(data)
    return data


def client_ip(environ: Dict[str, Any]) -> Optional[str]:
    """The client address of a WSGI request (see :func:`first_client_ip`)."""
    return first_client_ip(
        environ.get("HTTP_X_FORWARDED_FOR"),
        environ.get("HTTP_X_REAL_IP"),
        environ.get("REMOTE_ADDR"),
    )


class _RequestProcessor(RequestProcessor):
    """The request processor of a WSGI request."""

    __slots__ = ()

    def path(self) -> str:
        return _wsgi_decode(self.carrier.get("PATH_INFO") or "/")

    def request(self, pii: bool) -> Dict[str, Any]:
        return request_data(self.carrier, pii)

    def client_ip(self) -> Optional[str]:
        return client_ip(self.carrier)


def _status_watcher(
    start_response: Callable[..., Any], failed: Any, processor: _RequestProcessor
) -> Callable[..., Any]:
    """The ``start_response`` an app gets when some statuses count as failures: a failed
    status is reported as a message, unless the request already reported an error."""

    def watch(status: Any, headers: Any, exc_info: Any = None) -> Any:
        try:
            code = int(str(status).split(None, 1)[0])
        except Exception:
            code = 0
        if code in failed:
            processor.report_status(code, str(processor.carrier.get("REQUEST_METHOD") or ""))
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

    return watch


def _capture(mechanism: str) -> None:
    client = get_client()
    if client is not None:
        client.capture_exception(sys.exc_info(), handled=False, mechanism_type=mechanism)


def handle_request(
    app: Callable[..., Any],
    environ: Dict[str, Any],
    start_response: Callable[..., Any],
    mechanism: str = "wsgi",
    route: Optional[RouteName] = None,
) -> Any:
    """Call ``app`` for one request under its own isolation scope (the middleware's body)."""
    client = get_client()
    if client is None or client.transport is None or SCOPE_KEY in environ:
        return app(environ, start_response)
    scope = get_isolation_scope().fork()
    processor = _RequestProcessor(environ, scope, route)
    scope.event_processors.append(processor)
    failed = client.options.failed_request_status_codes
    if failed:
        start_response = _status_watcher(start_response, failed, processor)
    header = environ.get("HTTP_SENTRY_TRACE")
    if header:
        continue_trace(scope, header)
    environ[SCOPE_KEY] = weakref.ref(scope)  # a cycle through the environ would wait for the gc
    sessions = client.sessions
    session = scope.session = sessions.start_request() if sessions is not None else None
    with use_isolation_scope(scope):
        try:
            response = app(environ, start_response)
        except BaseException as exc:
            if isinstance(exc, Exception):
                _capture(mechanism)
            if session is not None:
                sessions.end_request(session)  # type: ignore[union-attr]
            raise
    # a list cannot fail while iterated and has no close(); a file the server sends itself
    if type(response) in (list, tuple) or _is_file_wrapper(environ, response):
        if session is not None:
            sessions.end_request(session)  # type: ignore[union-attr]
        return response
    return _Response(response, scope, mechanism, sessions if session is not None else None)


def _is_file_wrapper(environ: Dict[str, Any], response: Any) -> bool:
    wrapper = environ.get("wsgi.file_wrapper")
    return isinstance(wrapper, type) and isinstance(response, wrapper)


class _Response:
    """Iterates and closes the app's response inside the request's scope, reporting errors."""

    __slots__ = ("_response", "_scope", "_mechanism", "_sessions")

    def __init__(
        self, response: Iterable[bytes], scope: Scope, mechanism: str, sessions: Any = None
    ) -> None:
        self._response = response
        self._scope = scope
        self._mechanism = mechanism
        self._sessions = sessions  # the tracker, when the request has a session

    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        with use_isolation_scope(self._scope):
            try:
                return fn(*args)
            except StopIteration:
                raise
            except Exception:
                _capture(self._mechanism)
                raise

    def __iter__(self) -> Iterator[bytes]:
        iterator = self._run(iter, self._response)
        while True:
            try:
                chunk = self._run(next, iterator)
            except StopIteration:
                return
            yield chunk

    def close(self) -> None:
        """Close the app's response; the request's session ends here (the server calls it
        once the response was sent, or failed)."""
        try:
            close = getattr(self._response, "close", None)
            if close is not None:
                self._run(close)
        finally:
            session, self._scope.session = self._scope.session, None
            if session is not None and self._sessions is not None:
                self._sessions.end_request(session)


class ReleasetagMiddleware(Middleware):
    """Wrap a WSGI app so that its errors are reported with the request's data."""

    default_mechanism = "wsgi"

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return handle_request(self.app, environ, start_response, self.mechanism, self.route)


#: sentry-sdk's name for the WSGI middleware
SentryWsgiMiddleware = ReleasetagMiddleware
