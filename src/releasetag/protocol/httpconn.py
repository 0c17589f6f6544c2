"""Opening HTTP connections with the standard library: proxies, TLS and idle-socket checks.

The one place the runtime transport (envelopes) and the build-time Web API client open their
``http.client`` connections. ``http.client`` is imported only when a connection is opened,
``ssl`` only for HTTPS.

- Proxies: an explicit one, else ``HTTP(S)_PROXY`` / ``NO_PROXY`` as requests reads them; an
  HTTPS target goes through ``CONNECT``, a plain HTTP one by absolute URL.
- TLS verifies against ``ca_certs``, else certifi's bundle (installed with requests), else
  the system's certificates.
- ``TCP_NODELAY`` on every socket: a request whose headers and body go in two writes would
  otherwise wait for the server's delayed ACK (about 40 ms) on every request.
"""

from __future__ import annotations

import os
import select
from urllib.parse import urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    import socket
    import ssl
    from typing import Any, Optional, Tuple


def resolve_proxy(scheme: str, host: str, explicit: Optional[str] = None) -> Optional[str]:
    """The proxy for ``scheme://host``: ``explicit``, else the environment's, else None."""
    if explicit is not None:
        return explicit or None
    if not any(k.lower().endswith("_proxy") for k in os.environ):
        return None  # the common case, without importing urllib.request
    try:
        from urllib.request import (  # type: ignore[attr-defined]
            getproxies_environment,
            proxy_bypass_environment,
        )

        if proxy_bypass_environment(host):
            return None
        return getproxies_environment().get(scheme) or None
    except Exception:
        return None


def ssl_context(ca_certs: Optional[str] = None) -> "ssl.SSLContext":
    """A verifying TLS context: ``ca_certs``, else certifi's bundle, else the system's."""
    import ssl

    ca = ca_certs
    if not ca:
        try:
            import certifi  # the bundle requests uses (installed with it)

            ca = certifi.where()
        except ImportError:
            ca = None
    return ssl.create_default_context(cafile=ca)


def open_connection(
    url: str,
    timeout: float,
    *,
    proxy: Optional[str] = None,
    context: Any = None,
) -> Tuple["http.client.HTTPConnection", bool]:
    """An unconnected connection for ``url``'s host (through ``proxy`` if given), and whether
    requests on it must name the absolute URL (plain HTTP through a proxy)."""
    import http.client

    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if not proxy:
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        return _nodelay(conn), False
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    proxy_port = p.port or (443 if p.scheme == "https" else 80)
    if p.scheme == "https":
        conn = http.client.HTTPSConnection(
            p.hostname or "", proxy_port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection(p.hostname or "", proxy_port, timeout=timeout)
    if scheme == "https":
        conn.set_tunnel(host, port)  # CONNECT through the proxy
        return _nodelay(conn), False
    return _nodelay(conn), True


def _nodelay(conn: "http.client.HTTPConnection") -> "http.client.HTTPConnection":
    """Make ``conn`` set TCP_NODELAY on its socket once connected."""
    make = conn._create_connection  # type: ignore[attr-defined]

    def create(address: Any, *args: Any, **kwargs: Any) -> "socket.socket":
        import socket  # loaded by http.client by now: init() itself does not import it

        host = address[0]
        if isinstance(host, str) and host.isascii():
            # getaddrinfo would load the idna codec (and unicodedata) to encode a str host;
            # for an ASCII name that encoding is the name itself
            address = (host.encode("ascii"), *address[1:])
        sock = make(address, *args, **kwargs)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return sock

    conn._create_connection = create  # type: ignore[attr-defined]
    return conn


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
