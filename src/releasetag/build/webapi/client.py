"""The build-time HTTP client: standard-library HTTP with timeouts, retries and clear errors.

``ApiClient.request(method, path, json=..., data=..., ...)`` is the single way the CLI talks to
the Web API (``{url}/api/0{path}``); endpoint modules beside this one are thin typed wrappers.
It speaks HTTP/1.1 through the package's one HTTP layer, ``releasetag.net.httpconn``
(``http.client``; proxies, ``no_proxy`` and the CA bundle from the environment, as the runtime
transport's), over kept-alive connections shared by the threads that use the client.

Retries (exponential backoff) cover connection errors, timeouts and the statuses 429 and 503
(honouring ``Retry-After``, capped), 500, 502 and 504, for every method: the Web API calls the
CLI makes are idempotent (a repeated release POST answers 208). Redirects are followed; the
token goes only to the origin it was configured for. Every request, retries and waits
included, ends by ``ApiClient.deadline``: reads are bounded by socket timeouts and by the
deadline, which is checked before each read; no thread is started.

Failures raise ``ApiError`` whose message is one line meant for people: a 401 names the variable
to set, a 404 names the organization / project asked for, and the server's ``detail`` is shown.
The token is sent only in the ``Authorization`` header and never logged; a URL's
``user:password@`` is never sent nor shown.
"""

from __future__ import annotations

import json as json_mod
import os
import re
import socket
import sys
import threading
import time
from urllib.parse import urlencode, urljoin, urlsplit

from releasetag._version import __version__
from releasetag.build.config import EXTRA_HEADERS, Config, redact
from releasetag.net.netenv import (
    display_url,
    mask_credentials,
    origin,
    without_credentials,
)
from releasetag.protocol.errors import ALLOW_FAILURE_HINT, ServerError
from releasetag.protocol.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Type, Union

_LOGGER = "releasetag.build.webapi"

DEFAULT_TIMEOUT: Tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 0.5
MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 30.0
MAX_REDIRECTS = 10
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_PAGES = 1000
USER_AGENT = f"releasetag/{__version__}"


class ApiError(ServerError):
    """A failed Web API call: ``message`` is one line for people; ``status`` is None when no
    HTTP answer arrived (connection error or timeout)."""

    def __init__(
        self, message: str, status: Optional[int] = None, detail: Optional[str] = None
    ) -> None:
        super().__init__(message, status)
        self.detail = detail


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def summarize_detail(body: Any, limit: int = 300) -> Optional[str]:
    """The server's explanation from a JSON error body (``detail`` or field errors), one line."""
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            text = body["detail"]
        elif isinstance(body.get("detail"), dict) and isinstance(
            body["detail"].get("message"), str
        ):
            text = body["detail"]["message"]
        else:
            parts = []
            for key, value in body.items():
                if isinstance(value, list):
                    value = "; ".join(str(v) for v in value)
                parts.append(f"{key}: {value}")
            text = ", ".join(parts)
    elif isinstance(body, list):
        text = "; ".join(str(v) for v in body)
    elif isinstance(body, str):
        text = body
    else:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _debug(message: str, *args: Any) -> None:
    """A debug line on ``releasetag.build.webapi``; logging is not imported for it (only
    ``--log-level`` loads it, and then the line is wanted)."""
    if "logging" in sys.modules:
        get_logger(_LOGGER).debug(message, *args)


class Response:
    """A complete answer: ``status_code``, ``headers`` (case-insensitive), ``content``."""

    def __init__(self, status_code: int, headers: Any, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The decoded JSON body (``ValueError`` when it is not JSON)."""
        return json_mod.loads(self.content)

    @property
    def links(self) -> Dict[str, Dict[str, str]]:
        """The ``Link`` header by ``rel``: ``{"next": {"url": ..., "cursor": ...}}``."""
        return parse_links(self.headers.get("Link") or "")


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[\w.-]+\s*=\s*(?:\"[^\"]*\"|[^;,]*)\s*)*)")
_PARAM = re.compile(r";\s*([\w.-]+)\s*=\s*(?:\"([^\"]*)\"|([^;,]*))")


def parse_links(header: str) -> Dict[str, Dict[str, str]]:
    """Parse an RFC 8288 ``Link`` header into ``{rel: {"url": ..., param: value}}``."""
    out: Dict[str, Dict[str, str]] = {}
    for m in _LINK.finditer(header):
        link = {"url": m.group(1)}
        for p in _PARAM.finditer(m.group(2)):
            link[p.group(1).lower()] = p.group(2) if p.group(2) is not None else p.group(3).strip()
        out[link.get("rel") or link["url"]] = link
    return out


class ApiClient:
    """An authenticated client for ``config.url``'s Web API (standard-library HTTP, keep-alive
    connections shared by the threads that use the client)."""

    def __init__(
        self,
        config: Config,
        *,
        timeout: Optional[Tuple[float, float]] = None,
        retries: Optional[int] = None,
        backoff: Optional[float] = None,
    ) -> None:
        self.config = config
        read_timeout = _env_float("RELEASETAG_HTTP_TIMEOUT", DEFAULT_TIMEOUT[1])
        self.timeout = timeout or (min(DEFAULT_TIMEOUT[0], read_timeout), read_timeout)
        self.retries = max(
            0,
            int(_env_float("RELEASETAG_HTTP_RETRIES", DEFAULT_RETRIES))
            if retries is None
            else retries,
        )
        self.backoff = max(
            0.0,
            _env_float("RELEASETAG_HTTP_BACKOFF", DEFAULT_BACKOFF) if backoff is None else backoff,
        )
        # every request ends within this bound, however the server behaves (one that sends
        # its answer a byte at a time never trips a read timeout): every attempt's connect and
        # read timeouts, plus the longest wait between attempts (Retry-After, capped)
        self.deadline = (self.retries + 1) * sum(self.timeout) + self.retries * MAX_RETRY_AFTER
        self._idle: Dict[Tuple[str, str], List[Any]] = {}  # (scheme, netloc) -> connections
        self._lock = threading.Lock()
        self._tls: Any = None

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn, _ in conns:
                conn.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url_for(self, path: str) -> str:
        """Absolute URL for an API path (``/organizations/...``); absolute URLs pass through."""
        if path.startswith(("http://", "https://")):
            return without_credentials(path)
        return without_credentials(self.config.api_url) + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send one request and return the ``Response`` of a 2xx answer.

        Raises ``ApiError`` on anything else (with the auth token and any URL's
        ``user:password@`` cut out of every text it carries, even when the server echoed
        them); ``not_found`` replaces the 404 message."""
        try:
            return self._request(method, path, **kwargs)
        except ApiError as exc:
            token = self.config.auth_token
            message = mask_credentials(exc.message)
            detail = mask_credentials(exc.detail) if exc.detail else exc.detail
            if token:
                message = redact(message, token)
                detail = redact(detail, token) if detail else detail
            if (message, detail) != (exc.message, exc.detail):
                raise ApiError(message, status=exc.status, detail=detail) from None
            raise

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        data: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        not_found: Optional[str] = None,
        timeout: Optional[Union[float, Tuple[float, float]]] = None,
        auth: bool = True,
    ) -> Response:
        url = self.url_for(path)
        if params:
            pairs = params.items() if hasattr(params, "items") else params
            url += ("&" if "?" in url else "?") + urlencode(
                [(k, v) for k, v in pairs if v is not None], doseq=True
            )
        send_headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **EXTRA_HEADERS}
        if auth:
            from releasetag.build.config import ConfigError

            try:
                send_headers["Authorization"] = f"Bearer {self.config.require_token()}"
            except ConfigError as exc:
                raise ApiError(str(exc)) from None
        body: Any = None
        if json is not None:
            body = json_mod.dumps(json).encode("utf-8")
            send_headers["Content-Type"] = "application/json"
        elif data is not None:
            body = data
        send_headers.update(headers or {})
        if isinstance(timeout, (int, float)):
            timeout = (float(timeout), float(timeout))
        _debug("%s %s", method, display_url(url))
        resp = self._send(method, url, body, send_headers, timeout or self.timeout)
        _debug("%s %s -> %s", method, display_url(url), resp.status_code)
        if 200 <= resp.status_code < 300:
            return resp
        raise self._error(method, path, resp, not_found)

    # --- sending ------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Dict[str, str],
        timeout: Tuple[float, float],
    ) -> Response:
        """One exchange with retries (connection errors, timeouts, ``RETRY_STATUSES``) and
        redirects (at most ``MAX_REDIRECTS``; the token never goes to another origin), all
        within ``self.deadline`` (checked before each attempt and wait, and by every read)."""
        from releasetag.net.httpconn import DeadlineExceeded, http_errors

        errors: Tuple[Type[BaseException], ...] = (OSError, *http_errors())
        end = time.monotonic() + self.deadline
        start = body.tell() if hasattr(body, "tell") else None
        redirects = 0
        attempt = 0
        while True:
            if start is not None:
                body.seek(start)
            try:
                resp = self._attempt(method, url, body, headers, timeout, end)
            except DeadlineExceeded:
                raise self._deadline_error(method, url) from None
            except errors as exc:
                # a request http.client refuses to send (a ValueError that is not TLS's) would
                # be refused again
                refused = isinstance(exc, ValueError) and not isinstance(exc, OSError)
                if attempt >= self.retries or refused:
                    raise self._io_error(method, url, exc) from None
                wait = self._backoff(attempt)
            else:
                if resp.status_code in _REDIRECTS and resp.headers.get("Location"):
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise ApiError(
                            f"{method} {display_url(url)}: more than {MAX_REDIRECTS} redirects"
                        )
                    target = urljoin(url, resp.headers["Location"])
                    if origin(target) != origin(url):  # never the token to another host
                        headers = {k: v for k, v in headers.items() if k != "Authorization"}
                    if resp.status_code == 303 or (
                        resp.status_code in (301, 302) and method == "POST"
                    ):
                        method, body, start = "GET", None, None
                        headers = {k: v for k, v in headers.items() if k != "Content-Type"}
                    url = target
                    continue
                if resp.status_code not in RETRY_STATUSES or attempt >= self.retries:
                    return resp
                wait = max(self._backoff(attempt), _retry_after(resp))
            attempt += 1
            if time.monotonic() + wait >= end:
                raise self._deadline_error(method, url)
            _debug("retry %d of %s %s in %.2f s", attempt, method, display_url(url), wait)
            time.sleep(wait)

    def _deadline_error(self, method: str, url: str) -> ApiError:
        return ApiError(
            f"{method} {display_url(url)}: no complete answer within {self.deadline:g} s, the "
            "bound set by RELEASETAG_HTTP_TIMEOUT and RELEASETAG_HTTP_RETRIES (a stalled server?)"
        )

    def _backoff(self, attempt: int) -> float:
        """Seconds before retry ``attempt + 1``: none before the first, then doubling."""
        return 0.0 if attempt == 0 else min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))

    def _attempt(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Dict[str, str],
        timeout: Tuple[float, float],
        end: float,
    ) -> Response:
        """Send once on a kept-alive connection (a fresh one when the server had closed it)."""
        from releasetag.net.httpconn import BoundedBody, exchange

        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        conn, absolute, reused = self._connection(url, key, timeout[0])
        target = (
            url if absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        )
        pos = body.tell() if hasattr(body, "tell") else None
        send = body if pos is None else BoundedBody(body, end)
        try:
            status, got, content, keep = exchange(
                conn, method, target, headers, send, timeout=timeout, deadline=end, limit=MAX_BODY
            )
        except BaseException as exc:
            conn.close()
            if reused and isinstance(exc, _STALE):  # the server closed it while idle
                if pos is not None:
                    body.seek(pos)
                return self._attempt(method, url, body, headers, timeout, end)
            raise
        if keep:
            with self._lock:
                self._idle.setdefault(key, []).append((conn, absolute))
        return Response(status, got, content)

    def _connection(self, url: str, key: Tuple[str, str], connect: float) -> Tuple[Any, bool, bool]:
        """(an idle or new connection for ``url``'s origin, whether requests name the
        absolute URL, whether it was used before)."""
        from releasetag.net.httpconn import is_dropped, open_connection, resolve_proxy

        with self._lock:
            idle = self._idle.get(key) or []
            while idle:
                conn, absolute = idle.pop()
                if not is_dropped(conn):
                    return conn, absolute, True
                conn.close()
        parts = urlsplit(url)
        proxy = resolve_proxy(parts.scheme, parts.hostname or "", port=parts.port)
        if parts.scheme == "https":
            self._tls_context()  # made (and ssl loaded) under the lock, once
        conn, absolute = open_connection(url, connect, proxy=proxy, context=self._tls)
        return conn, absolute, False

    def _tls_context(self) -> Any:
        from releasetag.net.httpconn import ssl_context

        with self._lock:
            if self._tls is None:
                self._tls = ssl_context()
            return self._tls

    def _io_error(self, method: str, url: str, exc: BaseException) -> ApiError:
        if isinstance(exc, socket.timeout):
            return ApiError(
                f"{method} {display_url(url)}: the server did not answer in time "
                f"(after {self.retries} retries)"
            )
        from releasetag.net.httpconn import describe_http_error, describe_os_error

        where = f"{method} {display_url(url)}"
        refused = isinstance(exc, ValueError) and not isinstance(exc, OSError)  # not TLS's
        if refused:  # a header or URL http.client refuses to send
            return ApiError(f"{where}: cannot send the request ({describe_os_error(exc)})")
        if not isinstance(exc, OSError):  # http.client.HTTPException
            return ApiError(
                f"{where}: the server's answer is not valid HTTP/1.1 "
                f"({describe_http_error(exc)}) after {self.retries} retries"
            )
        return ApiError(
            f"cannot connect to {display_url(self.config.url)} ({describe_os_error(exc)}) "
            f"after {self.retries} retries; check --url / RELEASETAG_URL"
        )

    # --- answers ------------------------------------------------------------------------
    def _error(self, method: str, path: str, resp: Response, not_found: Optional[str]) -> ApiError:
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = None
            if status in UNIMPLEMENTED_STATUSES:
                return self._unimplemented(method, path, resp)
            if "html" not in (resp.headers.get("Content-Type") or ""):
                body = resp.text.strip()[:300]
        if status in UNIMPLEMENTED_STATUSES and not _is_sentry_error(body, status):
            return self._unimplemented(method, path, resp)
        detail = summarize_detail(body)
        suffix = f" (server said: {detail})" if detail else ""
        cfg = self.config
        if status == 401:
            msg = (
                f"the server at {display_url(cfg.url)} rejected the auth token from "
                f"{cfg.source_of('auth_token')} (401): put a valid token in "
                "RELEASETAG_AUTH_TOKEN (or SENTRY_AUTH_TOKEN), or pass --auth-token"
            )
        elif status == 403:
            msg = (
                f"the auth token from {cfg.source_of('auth_token')} may not do this "
                f"(403 on {method} {path}): check organization {cfg.org!r} and the token's "
                "scopes (project:releases, org:read)"
            )
        elif status == 404:
            if not_found:
                msg = f"{not_found} (404)"
            else:
                what = f"organization {cfg.org!r}"
                if "/projects/" in path and cfg.project:
                    what += f" or project {cfg.project!r}"
                msg = (
                    f"not found (404) on {method} {path}: check {what} "
                    f"(set with --org / --project or RELEASETAG_ORG / RELEASETAG_PROJECT)"
                )
        elif status == 429:
            msg = (
                f"rate limited by the server (429) on {method} {path} after {self.retries} retries"
            )
        elif status >= 500:
            msg = f"server error {status} on {method} {path} after {self.retries} retries"
        else:
            msg = f"the server refused {method} {path} ({status})"
        return ApiError(msg + suffix, status=status, detail=detail)

    def _unimplemented(self, method: str, path: str, resp: Response) -> ApiError:
        """A 404/405/501 that is not Sentry's JSON error: the server has no such endpoint."""
        said = first_line(resp)
        host = urlsplit(self.config.url).netloc.rpartition("@")[2] or display_url(self.config.url)
        return ApiError(
            f"the server at {host} does not implement {method} {_endpoint(path)} "
            f"({resp.status_code}"
            + (f"; it said: {said})" if said else " with an empty answer)")
            + ": it may be a Sentry-compatible server without this part of the Web API"
            + ALLOW_FAILURE_HINT,
            status=resp.status_code,
            detail=said,
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request`` and decode the JSON answer (None for an empty body)."""
        resp = self.request(method, path, **kwargs)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise ApiError(
                f"{method} {path}: the server's answer is not JSON "
                f"({resp.headers.get('Content-Type') or 'no content type'})"
            ) from None

    def paginate(
        self,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        not_found: Optional[str] = None,
    ) -> Iterator[Any]:
        """Yield the items of a list endpoint, following ``Link: <...>; rel="next";
        results="true"; cursor="..."`` headers."""
        query: Dict[str, Any] = dict(params or {})
        for _ in range(MAX_PAGES):
            resp = self.request("GET", path, params=query, not_found=not_found)
            try:
                items = resp.json() if resp.content else []
            except ValueError:
                raise ApiError(f"GET {path}: the server's answer is not JSON") from None
            if not isinstance(items, list):
                raise ApiError(
                    f"GET {path}: expected a list from the server, got {type(items).__name__}"
                )
            yield from items
            nxt = resp.links.get("next") or {}
            if nxt.get("results", "true").lower() != "true" or not nxt.get("cursor"):
                return
            if query.get("cursor") == nxt["cursor"]:
                return
            query["cursor"] = nxt["cursor"]

    def list_all(self, path: str, **kwargs: Any) -> List[Any]:
        """Every item of a paginated list endpoint."""
        return list(self.paginate(path, **kwargs))


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# answers that may mean "no such endpoint here" rather than "no such object"
UNIMPLEMENTED_STATUSES = frozenset({404, 405, 501})


def _is_sentry_error(body: Any, status: int) -> bool:
    """True for Sentry's own JSON error answer (``{"detail": ...}``) to a known endpoint:
    404 then means the organization, project or release does not exist. 501 never is."""
    if status == 501 or not isinstance(body, dict):
        return False
    detail = body.get("detail")
    if isinstance(detail, dict):
        detail = detail.get("message")
    if not isinstance(detail, str):
        return False
    return not _UNIMPLEMENTED_WORDS.search(detail)


_UNIMPLEMENTED_WORDS = re.compile(
    r"unimplemented|not implemented|not supported|no such endpoint", re.I
)


def first_line(resp: Response, limit: int = 120) -> str:
    """The first readable line of an answer: an HTML page's title (or first text), else the
    first non-empty line; tags, control characters and long tails cut."""
    text = resp.text
    if "<" in text and re.search(r"<(html|head|body|title|h1|!doctype)\b", text, re.I):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        text = (
            title.group(1)
            if title and title.group(1).strip()
            else re.sub(r"<(script|style)\b.*?</\1>|<[^>]*>", "\n", text, flags=re.I | re.S)
        )
        import html

        text = html.unescape(text)
    for line in text.splitlines():
        line = "".join(ch if ch.isprintable() else " " for ch in line)
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


def _endpoint(path: str) -> str:
    """The API path without the query."""
    return path.split("?", 1)[0]


# errors of a kept-alive connection the server had closed (http.client's RemoteDisconnected
# is a ConnectionResetError): sent again on a new one
_STALE = (ConnectionResetError, BrokenPipeError)
MAX_BODY = 256 * 1024 * 1024  # the longest answer read


def _retry_after(resp: Response) -> float:
    """The server's ``Retry-After`` (seconds or an HTTP date) for 429/503, capped."""
    if resp.status_code not in (429, 503):
        return 0.0
    value = (resp.headers.get("Retry-After") or "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0
    return min(max(0.0, seconds), MAX_RETRY_AFTER)
