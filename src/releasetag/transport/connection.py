"""The HTTP connections the transport posts through.

One keep-alive ``http.client`` connection per sending thread (the standard library): it
writes a request's headers and body in one ``send``, which on a local server makes a POST
about twice as fast as going through urllib3 (two writes, and one more wake-up of the
server per request) or requests (plus hooks, cookie jar and setting merges). Proxies and
TLS are set up by ``releasetag.net.httpconn``, the package's one HTTP layer (shared
with the build-time Web API client; SOCKS proxies through PySocks, the ``socks`` extra).
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from releasetag.net.httpconn import (
    is_dropped,
    load,
    open_connection,
    resolve_proxy,
    ssl_context,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from typing import Any, Dict, Optional, Tuple


class Connection:
    """Keep-alive connections to one endpoint, one per sending thread."""

    def __init__(
        self,
        url: str,
        headers: Dict[str, str],
        *,
        maxsize: int = 2,
        http_proxy: Optional[str] = None,
        https_proxy: Optional[str] = None,
        ca_certs: Optional[str] = None,
    ) -> None:
        self.url = url
        self.headers = dict(headers)
        self.maxsize = max(1, maxsize)
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.proxy = https_proxy if self.scheme == "https" else http_proxy
        self.ca_certs = ca_certs
        self._proxy_resolved = False
        self._local = threading.local()
        self._all: list = []
        self._lock = threading.Lock()
        self._client: Any = None  # the http.client module, once prepare() ran
        self._ctx: Any = None  # the TLS context, made once on first use

    def prepare(self) -> None:
        """Import what posting needs and resolve the proxy, on the calling (app) thread.

        Called on first use rather than at init() (which stays cheap), and never left to a
        sender thread: a fork during an import on another thread leaves the child half a
        module.
        """
        if self._client is None:
            import encodings.idna  # noqa: F401 - socket.getaddrinfo loads it on first use

            proxy = self._resolve_proxy()
            tls = self.scheme == "https" or (proxy or "").startswith("https")
            # the context itself is made on the sender thread
            self._client = load(tls=tls, socks=(proxy or "").startswith("socks"))

    # --- set-up -------------------------------------------------------------------------
    def _resolve_proxy(self) -> Optional[str]:
        if not self._proxy_resolved:
            self.proxy = resolve_proxy(self.scheme, self.host, self.proxy)
            self._proxy_resolved = True
        return self.proxy

    def _ssl_context(self) -> Any:
        if self._ctx is None:
            self._ctx = ssl_context(self.ca_certs)
        return self._ctx

    def _new_connection(self, timeout: float) -> Tuple["http.client.HTTPConnection", str]:
        self.prepare()
        proxy = self._resolve_proxy()
        tls = self.scheme == "https" or (proxy or "").startswith("https")
        conn, absolute = open_connection(
            self.url, timeout, proxy=proxy, context=self._ssl_context() if tls else None
        )
        return conn, self.url if absolute else self.path

    # --- posting ------------------------------------------------------------------------
    def post(
        self, body: bytes, headers: Dict[str, str], timeout: float
    ) -> Tuple[int, Dict[str, str], bytes]:
        """POST ``body``; (status, lower-cased headers, response body). Raises on I/O errors."""
        state = getattr(self._local, "conn", None)
        if state is not None and is_dropped(state[0]):
            self._discard(state[0])
            state = None
        if state is None:
            state = self._new_connection(timeout)
            self._local.conn = state
            with self._lock:
                self._all.append(state[0])
        conn, target = state
        all_headers = dict(self.headers)
        all_headers.update(headers)
        try:
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            else:
                conn.timeout = timeout
            conn.request("POST", target, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            self._discard(conn)
            raise
        if response.will_close:
            self._discard(conn)
        lower = {k.lower(): v for k, v in response.getheaders()}
        return response.status, lower, data

    def _discard(self, conn: "http.client.HTTPConnection") -> None:
        state = getattr(self._local, "conn", None)
        if state is not None and state[0] is conn:
            self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.close()
        except Exception:
            pass

    def close(self) -> None:
        """Close every connection (of every thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except Exception:
                pass
