"""The build-time HTTP client: one ``requests.Session`` with timeouts, retries and clear errors.

``ApiClient.request(method, path, json=..., files=..., ...)`` is the single way the CLI talks to
the Web API (``{url}/api/0{path}``); endpoint modules beside this one are thin typed wrappers.

Retries (urllib3 ``Retry``, exponential backoff) cover connection errors, timeouts and the
statuses 429 (honouring ``Retry-After``), 500, 502, 503 and 504, for every method: the Web API
calls the CLI makes are idempotent (a repeated release POST answers 208).

Failures raise ``ApiError`` whose message is one line meant for people: a 401 names the variable
to set, a 404 names the organization / project asked for, and the server's ``detail`` is shown.
The token is sent only in the ``Authorization`` header and never logged.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from releasetag._version import __version__
from releasetag.build.config import Config, redact
from releasetag.protocol.errors import ServerError

logger = logging.getLogger("releasetag.build.webapi")

DEFAULT_TIMEOUT: Tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 0.5
MAX_RETRY_AFTER = 60.0
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


def _make_retry(total: int, backoff: float):
    from urllib3.util.retry import Retry

    class _CappedRetry(Retry):
        """A Retry whose Retry-After wait is capped (a server asking for an hour is not obeyed)."""

        def parse_retry_after(self, retry_after: str) -> float:
            return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)

    kwargs: Dict[str, Any] = dict(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        backoff_factor=backoff,
        status_forcelist=sorted(RETRY_STATUSES),
        allowed_methods=None,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )
    try:
        return _CappedRetry(backoff_max=30, **kwargs)
    except TypeError:  # urllib3 1.26 has no backoff_max
        return _CappedRetry(**kwargs)


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


class _Bearer:
    """requests auth hook: ``Authorization: Bearer <token>``; the repr hides the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_Bearer(<token>)"


class ApiClient:
    """An authenticated session against ``config.url``'s Web API."""

    def __init__(
        self,
        config: Config,
        *,
        timeout: Optional[Tuple[float, float]] = None,
        retries: Optional[int] = None,
        backoff: Optional[float] = None,
    ) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self.config = config
        read_timeout = _env_float("RELEASETAG_HTTP_TIMEOUT", DEFAULT_TIMEOUT[1])
        self.timeout = timeout or (min(DEFAULT_TIMEOUT[0], read_timeout), read_timeout)
        self.retries = max(
            0,
            int(_env_float("RELEASETAG_HTTP_RETRIES", DEFAULT_RETRIES))
            if retries is None
            else retries,
        )
        backoff = max(
            0.0,
            _env_float("RELEASETAG_HTTP_BACKOFF", DEFAULT_BACKOFF) if backoff is None else backoff,
        )
        # every request ends within this bound, however the server behaves (one that sends
        # its answer a byte at a time never trips a read timeout): every attempt's connect and
        # read timeouts, plus the longest wait between attempts (Retry-After, capped)
        self.deadline = (self.retries + 1) * sum(self.timeout) + self.retries * MAX_RETRY_AFTER
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=_make_retry(self.retries, backoff))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.trust_env = True

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url_for(self, path: str) -> str:
        """Absolute URL for an API path (``/organizations/...``); absolute URLs pass through."""
        if path.startswith(("http://", "https://")):
            return path
        return self.config.api_url + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request and return the ``requests.Response`` of a 2xx answer.

        Raises ``ApiError`` on anything else (with the auth token cut out of every text it
        carries, even when the server echoed it); ``not_found`` replaces the 404 message."""
        try:
            return self._request(method, path, **kwargs)
        except ApiError as exc:
            token = self.config.auth_token
            if token and (token in exc.message or token in (exc.detail or "")):
                raise ApiError(
                    redact(exc.message, token),
                    status=exc.status,
                    detail=redact(exc.detail, token) if exc.detail else None,
                ) from None
            raise

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        data: Any = None,
        files: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        not_found: Optional[str] = None,
        timeout: Optional[Union[float, Tuple[float, float]]] = None,
        auth: bool = True,
    ):
        import requests

        url = self.url_for(path)
        bearer = None
        if auth:
            from releasetag.build.config import ConfigError

            try:
                bearer = _Bearer(self.config.require_token())
            except ConfigError as exc:
                raise ApiError(str(exc)) from None
        logger.debug("%s %s", method, url)
        try:
            # auth= (not a header) so that a ~/.netrc entry cannot replace the token
            resp = self._within_deadline(
                method,
                url,
                json=json,
                params=params,
                data=data,
                files=files,
                headers=headers,
                auth=bearer,
                timeout=timeout or self.timeout,
            )
        except requests.exceptions.Timeout:
            raise ApiError(
                f"{method} {url}: the server did not answer in time (after {self.retries} retries)"
            ) from None
        except requests.exceptions.RetryError as exc:
            raise ApiError(
                f"{method} {url}: gave up after {self.retries} retries ({_reason(exc)})"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _is_timeout(exc):
                raise ApiError(
                    f"{method} {url}: the server did not answer in time "
                    f"(after {self.retries} retries)"
                ) from None
            raise ApiError(
                f"cannot connect to {self.config.url} ({_reason(exc)}) "
                f"after {self.retries} retries; check --url / RELEASETAG_URL"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ApiError(f"{method} {url}: {_reason(exc)}") from None
        logger.debug("%s %s -> %s", method, url, resp.status_code)
        if 200 <= resp.status_code < 300:
            return resp
        raise self._error(method, path, resp, not_found)

    def _within_deadline(self, method: str, url: str, **kwargs: Any) -> Any:
        """``session.request`` (all its retries, the whole body) within ``self.deadline``;
        past it, ApiError. The stalled exchange is left to a daemon thread."""
        import threading

        outcome: Dict[str, Any] = {}

        def send() -> None:
            try:
                outcome["response"] = self.session.request(method, url, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=send, name="releasetag-http", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            raise ApiError(
                f"{method} {url}: no complete answer within {self.deadline:g} s, the bound "
                "set by RELEASETAG_HTTP_TIMEOUT and RELEASETAG_HTTP_RETRIES (a stalled server?)"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _error(self, method: str, path: str, resp: Any, not_found: Optional[str]) -> ApiError:
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = (
                resp.text.strip()[:300]
                if "html" not in resp.headers.get("Content-Type", "")
                else None
            )
        detail = summarize_detail(body)
        suffix = f" (server said: {detail})" if detail else ""
        cfg = self.config
        if status == 401:
            msg = (
                f"the server at {cfg.url} rejected the auth token from "
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
                f"({resp.headers.get('Content-Type', 'no content type')})"
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


def _chain(exc: BaseException) -> List[BaseException]:
    out: List[BaseException] = []
    cur: Optional[BaseException] = exc
    while cur is not None and all(cur is not e for e in out):
        out.append(cur)
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            cur = reason
        elif cur.args and isinstance(cur.args[0], BaseException):
            cur = cur.args[0]
        else:
            cur = cur.__cause__ or cur.__context__
    return out


def _is_timeout(exc: BaseException) -> bool:
    import socket

    from urllib3.exceptions import NewConnectionError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    chain = _chain(exc)
    if any(isinstance(e, (NewConnectionError, ConnectionRefusedError)) for e in chain):
        return False  # urllib3 makes NewConnectionError a ConnectTimeoutError subclass
    return any(isinstance(e, (Urllib3Timeout, socket.timeout)) for e in chain)


def _reason(exc: BaseException) -> str:
    """The innermost readable reason of a requests/urllib3 error, one line, no URL noise."""
    seen = set()
    cur: Optional[BaseException] = exc
    text = str(exc)
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            cur = reason
            continue
        if cur.args and isinstance(cur.args[0], BaseException):
            cur = cur.args[0]
            continue
        text = str(cur)
        break
    if "Connection refused" in text:
        return "connection refused"
    text = re.sub(r"^\w*ConnectionPool\([^)]*\): ", "", text)
    text = re.sub(r"^<[^>]*>: ", "", text)
    text = " ".join(text.split())
    return text[:200]
