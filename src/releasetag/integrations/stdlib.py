"""Stdlib, under sentry-sdk's name: outgoing ``http.client`` requests and ``subprocess`` calls
become breadcrumbs, with sentry-sdk's categories and data keys, plus how long they took
(``data["duration_ms"]``).

- ``http.client``: one breadcrumb (type ``http``, category ``httplib``) when the response
  arrives, with the URL (query and fragment apart), method, status and reason; a 4xx is a
  ``warning``, a 5xx an ``error``. Requests to the DSN's own host are left alone. A request to a
  host that ``trace_propagation_targets`` matches gets ``sentry-trace`` and ``baggage`` headers
  (unless it sets them itself), so the trace continues downstream.
- ``subprocess``: one breadcrumb (type and category ``subprocess``, the command as message) when
  a ``Popen`` starts; once it is waited for, the breadcrumb gets its duration and return code.

Enabled by default; each part is hooked only once the program has imported that module.
"""

from __future__ import annotations

import re
import time

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration, when_imported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from ..client import Client

_installed = False
_MATCH_ALL = ".*"  # sentry-sdk's default trace_propagation_targets


def _active() -> Optional[Client]:
    client = get_client()
    return client if client is not None and client.transport is not None else None


def should_propagate(client: Client, url: str) -> bool:
    """Whether ``url`` matches ``trace_propagation_targets`` (regular expressions searched in
    the URL, as sentry-sdk does; None or [] sends no headers)."""
    targets = getattr(client.options, "trace_propagation_targets", [_MATCH_ALL])
    if not targets:
        return False
    for target in targets:
        try:
            if target == _MATCH_ALL or re.search(target, url):
                return True
        except (re.error, TypeError):
            continue
    return False


def _duration_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


# --- http.client ------------------------------------------------------------------------------
def _is_own(client: Client, host: str, port: Any) -> bool:
    dsn = client.dsn
    return dsn is not None and dsn.host == host and (dsn.port is None or dsn.port == port)


def _request_url(conn: Any, url: str) -> str:
    if "://" in url:  # absolute (through a proxy)
        return url
    scheme = "https" if conn.default_port == 443 else "http"
    port = "" if conn.port == conn.default_port else f":{conn.port}"
    return f"{scheme}://{conn.host}{port}{url}"


def _patch_http_client() -> None:
    import http.client

    connection = http.client.HTTPConnection
    putrequest, getresponse = connection.putrequest, connection.getresponse

    def releasetag_putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        rv = putrequest(self, method, url, *args, **kwargs)
        client = _active()
        if client is None or _is_own(client, self.host, self.port):
            return rv
        try:
            full = _request_url(self, url)
            self._releasetag = (method, full, time.perf_counter())
            if should_propagate(client, full):
                from ..tracing import trace_propagation_headers

                for key, value in trace_propagation_headers().items():
                    self.putheader(key, value)
        except Exception:
            internal_error("stdlib: preparing an outgoing request failed")
        return rv

    def releasetag_getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        pending = getattr(self, "_releasetag", None)
        if pending is None:
            return getresponse(self, *args, **kwargs)
        self._releasetag = None
        response = None
        try:
            response = getresponse(self, *args, **kwargs)
            return response
        finally:
            _http_breadcrumb(pending, response)

    connection.putrequest = releasetag_putrequest  # type: ignore[method-assign]
    connection.getresponse = releasetag_getresponse  # type: ignore[method-assign]


def _http_breadcrumb(pending: Any, response: Any) -> None:
    client = _active()
    if client is None:
        return
    try:
        method, full, start = pending
        url, _, fragment = full.partition("#")
        url, _, query = url.partition("?")
        data: Dict[str, Any] = {
            "http.method": method,
            "http.fragment": fragment,
            "url": url,
            "http.query": query,
        }
        crumb: Dict[str, Any] = {"type": "http", "category": "httplib", "data": data}
        status = getattr(response, "status", None)
        if isinstance(status, int):
            data["http.response.status_code"] = status
            data["reason"] = getattr(response, "reason", None)
            if status >= 500:
                crumb["level"] = "error"
            elif status >= 400:
                crumb["level"] = "warning"
        data["duration_ms"] = _duration_ms(start)
        client.add_breadcrumb(crumb, {"httplib_response": response})
    except Exception:
        internal_error("stdlib: recording an outgoing request failed")


# --- subprocess ------------------------------------------------------------------------------
def _command_text(args: Any) -> str:
    if isinstance(args, (str, bytes)):
        return args.decode("utf-8", "replace") if isinstance(args, bytes) else args
    try:
        return " ".join(str(a) for a in args)
    except TypeError:
        return str(args)


def _patch_subprocess() -> None:
    import subprocess

    popen = subprocess.Popen
    init, wait = popen.__init__, popen.wait

    def releasetag_init(self: Any, *args: Any, **kwargs: Any) -> None:
        client = _active()
        crumb: Optional[Dict[str, Any]] = None
        if client is not None:
            try:
                command = args[0] if args else kwargs.get("args")
                crumb = {
                    "type": "subprocess",
                    "category": "subprocess",
                    "message": _command_text(command),
                    "data": {},
                }
                client.add_breadcrumb(crumb, {"popen_instance": self})
                self._releasetag = (crumb, time.perf_counter())
            except Exception:
                internal_error("stdlib: recording a subprocess failed")
        init(self, *args, **kwargs)

    def releasetag_wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        rv = wait(self, *args, **kwargs)
        pending = getattr(self, "_releasetag", None)
        if pending is not None:
            self._releasetag = None
            data = pending[0].get("data")
            if isinstance(data, dict):  # the breadcrumb kept in the scope: finish it
                data["duration_ms"] = _duration_ms(pending[1])
                data["returncode"] = rv
        return rv

    popen.__init__ = releasetag_init  # type: ignore[method-assign]
    popen.wait = releasetag_wait  # type: ignore[method-assign]


class StdlibIntegration(Integration):
    identifier = "stdlib"

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        when_imported("http.client", _patch_http_client)
        when_imported("subprocess", _patch_subprocess)
