"""The package's one HTTP client layer, on the standard library's ``http.client``.

The runtime transport (envelopes) and the build-time Web API client both open their
connections here; ``http.client`` is imported only when a connection is opened.

- Proxies (``proxy_env``): an explicit one, else ``http_proxy`` / ``https_proxy`` /
  ``all_proxy`` (either case) unless ``no_proxy`` names the host (names, ``.suffix``,
  ``host:port``, IP addresses and CIDR ranges, ``*``). An HTTPS target goes through
  ``CONNECT``, a plain HTTP one by absolute URL; ``user:password@`` in the proxy URL becomes
  ``Proxy-Authorization``. ``socks5://``, ``socks5h://``, ``socks4://`` and ``socks4a://``
  proxies need PySocks (the ``socks`` extra).
- TLS (``ssl_context``) verifies against ``ca_certs``, else ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` (the variables pipelines already
  set for requests, curl and OpenSSL), else certifi's bundle, else the system's.
- ``TCP_NODELAY`` on every socket: a request whose headers and body go in two writes would
  otherwise wait for the server's delayed ACK (about 40 ms) on every request.
- Every read of an answer waits at most ``read_timeout`` and never past the connection's
  ``deadline`` (``time.monotonic()``), so a server that sends a byte at a time cannot hold
  the caller longer than its bound; no thread is started for it.
"""

from __future__ import annotations

import select
import threading
import time
from urllib.parse import unquote, urlsplit

from .netenv import BLOCK as _BLOCK
from .netenv import DeadlineExceeded, ca_locations, display_url, nodelay, resolve_proxy

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    import ssl
    from typing import Any, BinaryIO, Dict, Optional, Tuple, Type

SOCKS_SCHEMES = ("socks4", "socks4a", "socks5", "socks5h")


_contexts: Dict[Tuple[Optional[str], Optional[str]], Any] = {}
_contexts_lock = threading.Lock()


def ssl_context(ca_certs: Optional[str] = None) -> "ssl.SSLContext":
    """A verifying TLS context (HTTP/1.1 by ALPN) for the CA bundle ``ca_locations`` names;
    one per bundle per process. A bundle that cannot be read raises ``OSError`` naming it
    and where it came from."""
    cafile, capath, source = ca_locations(ca_certs)
    key = (cafile, capath)
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None:
            import ssl

            try:
                ctx = ssl.create_default_context(cafile=cafile, capath=capath)
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
                raise OSError(
                    f"cannot use the CA bundle {cafile or capath} from {source}: {reason}"
                ) from None
            ctx.set_alpn_protocols(["http/1.1"])
            _contexts[key] = ctx
        return ctx


def open_connection(
    url: str,
    timeout: float,
    *,
    proxy: Optional[str] = None,
    context: Any = None,
) -> Tuple["http.client.HTTPConnection", bool]:
    """An unconnected keep-alive connection for ``url``'s host (through ``proxy`` if given),
    and whether requests on it must name the absolute URL (plain HTTP through an HTTP proxy).

    ``timeout`` bounds the connect and each read; set ``conn.read_timeout`` and
    ``conn.deadline`` (a ``time.monotonic()`` value) to bound reads further. HTTPS uses
    ``context``, else ``ssl_context()``."""
    classes = _classes()
    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    tls = scheme == "https"
    if tls and context is None:
        context = ssl_context()
    if not proxy:
        return classes.make(tls, host, port, timeout, context), False
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if p.scheme in SOCKS_SCHEMES:
        conn = classes.make(tls, host, port, timeout, context)
        conn.socks = p  # type: ignore[attr-defined]
        return conn, False
    if p.scheme not in ("http", "https"):
        raise OSError(f"unsupported proxy scheme {p.scheme}:// in {display_url(proxy)}")
    proxy_port = p.port or (443 if p.scheme == "https" else 80)
    auth = _proxy_auth(p.username, p.password)
    if tls:  # CONNECT through the proxy, then TLS with the target
        if p.scheme == "https":
            raise OSError(
                f"an https:// proxy for an HTTPS server is not supported: "
                f"use http://{p.netloc.rpartition('@')[2]} (the tunnel is TLS anyway)"
            )
        conn = classes.make(tls, p.hostname or "", proxy_port, timeout, context)
        conn.set_tunnel(host, port, headers=auth)
        return conn, False
    proxy_ctx = (context or ssl_context()) if p.scheme == "https" else None
    conn = classes.make(p.scheme == "https", p.hostname or "", proxy_port, timeout, proxy_ctx)
    conn.proxy_headers = auth  # type: ignore[attr-defined]
    return conn, True


def _proxy_auth(user: Optional[str], password: Optional[str]) -> Dict[str, str]:
    if user is None:
        return {}
    import base64

    pair = f"{unquote(user)}:{unquote(password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


class _Classes:
    """The connection and response classes, made on first use (``http.client`` loads then)."""

    def __init__(self) -> None:
        import http.client

        from . import _httpclasses

        self.http_client = http.client
        self.plain, self.https = _httpclasses.Plain, _httpclasses.Https

    def make(
        self, tls: bool, host: str, port: int, timeout: float, context: Any
    ) -> "http.client.HTTPConnection":
        if tls:
            return self.https(host, port, timeout=timeout, context=context)
        return self.plain(host, port, timeout=timeout)


_made: Optional[_Classes] = None
_made_lock = threading.Lock()


def _classes() -> _Classes:
    global _made
    if _made is None:
        with _made_lock:
            if _made is None:
                _made = _Classes()
    return _made


def load(*, tls: bool = False, socks: bool = False) -> Any:
    """Import what opening a connection needs (``http.client``; ``ssl`` and certifi for TLS;
    PySocks for a SOCKS proxy, when installed) and return the ``http.client`` module: for
    callers that must not import on another thread (a fork during an import leaves the child
    half a module)."""
    client = _classes().http_client
    if tls:
        import ssl  # noqa: F401

        ca_locations()  # finds certifi's bundle (importlib.util)
    if socks:
        try:
            import socks as _socks  # noqa: F401
        except ImportError:
            pass  # the first connection says what to install
    return client


def http_errors() -> Tuple[Type[BaseException], ...]:
    """What a failed exchange raises besides ``OSError``: ``http.client.HTTPException``
    (an answer that is not HTTP/1.x, a header line or header count over its limit) and
    ``ValueError`` (a header value or URL with a line break)."""
    return (_classes().http_client.HTTPException, ValueError)


def read_body(response: Any, limit: int) -> bytes:
    """The whole body of ``response`` read in blocks (each read bounded by the connection's
    timeouts and deadline); ``OSError`` when it is longer than ``limit`` bytes."""
    out = bytearray()
    while True:
        block = response.read1(_BLOCK)
        if not block:
            if response.length:  # Content-Length not reached (read1 does not say)
                raise OSError(
                    f"the connection ended in the middle of the answer ({len(out)} of "
                    f"{len(out) + response.length} bytes)"
                )
            response.close()  # done: http.client may send the next request on the connection
            return bytes(out)
        out += block
        if len(out) > limit:
            raise OSError(f"the server's answer is larger than {limit} bytes")


def exchange(
    conn: Any,
    method: str,
    target: str,
    headers: Dict[str, str],
    body: Any,
    *,
    timeout: Tuple[float, float],
    deadline: float,
    limit: int,
) -> Tuple[int, Any, bytes, bool]:
    """One request and its whole answer on ``conn`` (from ``open_connection``): connect within
    ``timeout[0]``, each read within ``timeout[1]``, nothing past ``deadline``
    (``time.monotonic()``), at most ``limit`` bytes of body. Returns (status, headers, body,
    whether the connection may be kept)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the deadline passed before the request was sent")
    conn.deadline = deadline
    conn.read_timeout = timeout[1]
    if conn.sock is None:
        conn.timeout = min(timeout[0], left)
        conn.connect()
    conn.sock.settimeout(min(timeout[1], max(0.001, deadline - time.monotonic())))  # sending
    conn.request(method, target, body=body, headers=headers)
    answer = conn.getresponse()
    content = read_body(answer, limit)
    keep = not answer.will_close
    if not keep:
        conn.close()
    return answer.status, answer.headers, content, keep


def describe_http_error(exc: BaseException) -> str:
    """A one-line reason for an answer ``http.client`` could not read."""
    name = type(exc).__name__
    text = str(exc) or name
    if name in ("BadStatusLine", "UnknownProtocol"):
        text = f"it does not start with an HTTP/1.x status line: {text[:60]}"
    elif name == "IncompleteRead":
        text = "the connection ended in the middle of the answer"
    elif name == "LineTooLong":
        text = f"a line longer than 65536 bytes ({text})"
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:200]


def describe_os_error(exc: BaseException) -> str:
    """A readable one-line reason for a connection failure."""
    import re
    import socket

    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name: {exc.strerror or exc}"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\] ", "", " ".join(str(text).split()))
    return text[:200]


class BoundedBody:
    """A file-like request body whose reads stop at ``deadline`` (``time.monotonic()``)."""

    def __init__(self, body: BinaryIO, deadline: float) -> None:
        self.body = body
        self.deadline = deadline

    def read(self, n: int = -1) -> bytes:
        if time.monotonic() >= self.deadline:
            raise DeadlineExceeded("the request body was still being sent at the deadline")
        return self.body.read(n)


def is_dropped(conn: "http.client.HTTPConnection") -> bool:
    """True when an idle keep-alive connection was closed by the server (readable = EOF)."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):  # no FD_SETSIZE limit
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


__all__ = [
    "DeadlineExceeded",
    "describe_http_error",
    "describe_os_error",
    "exchange",
    "nodelay",
    "BoundedBody",
    "display_url",
    "http_errors",
    "is_dropped",
    "open_connection",
    "read_body",
    "resolve_proxy",
    "ssl_context",
]
