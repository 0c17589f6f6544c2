"""``http.client`` subclasses behind ``releasetag.net.httpconn``, which imports this
module when it opens its first connection (so that importing the layer does not load
``http.client``).

- Each read of an answer (status line, headers, body, a proxy's ``CONNECT`` answer) waits at
  most the connection's ``read_timeout`` and never past its ``deadline``.
- Interim answers (``102``, ``103 Early Hints``) are skipped like ``100 Continue``.
- Sockets: ``TCP_NODELAY``; an ASCII host name is passed to ``getaddrinfo`` as bytes (a str
  would load the idna codec and ``unicodedata``); a SOCKS proxy through PySocks.
- ``proxy_headers`` (a proxy's ``Proxy-Authorization``) go with every absolute-form request.
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import time
from urllib.parse import unquote

from .netenv import BLOCK as _BLOCK
from .netenv import DeadlineExceeded, nodelay

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple


class BoundedReader(io.RawIOBase):
    """The socket as a raw stream whose every read is bounded by the owner's limits."""

    def __init__(self, sock: Any, owner: Any) -> None:
        super().__init__()
        self.sock = sock
        self.owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        timeout = self.owner.read_timeout
        deadline = self.owner.deadline
        at_deadline = False
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded("the answer was not complete at the deadline")
            at_deadline = timeout is None or left < timeout
            timeout = left if at_deadline else timeout
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            return int(self.sock.recv_into(buf))
        except socket.timeout:
            if at_deadline:
                raise DeadlineExceeded("the answer was not complete at the deadline") from None
            raise


class Response(http.client.HTTPResponse):
    def __init__(
        self,
        sock: Any,
        debuglevel: int = 0,
        method: Optional[str] = None,
        url: Optional[str] = None,
        *,
        owner: Any,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        # http.client's own socket file is replaced by a bounded one, but kept open until the
        # answer is done: it holds the socket open after an answer that ends the connection
        # (http.client then closes the connection before the body is read)
        self._held: Any = self.fp
        self.fp = io.BufferedReader(BoundedReader(sock, owner), _BLOCK)

    def _close_conn(self) -> None:
        super()._close_conn()  # type: ignore[misc]
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _read_status(self) -> Tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 < status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # an interim answer's headers: the real one follows


class Bounded:
    """What both connection classes add to ``http.client``'s."""

    read_timeout: Optional[float] = None
    deadline: Optional[float] = None
    proxy_headers: Dict[str, str] = {}
    socks: Any = None

    def _setup(self) -> None:
        self._create_connection = self._open_socket
        # http.client makes every answer (and a proxy's CONNECT answer) with this
        setattr(self, "response_class", functools.partial(Response, owner=self))  # noqa: B010

    def _open_socket(
        self, address: Tuple[Any, int], timeout: Any = None, source: Any = None
    ) -> Any:
        host, port = address[0], address[1]
        if self.socks is not None:
            return nodelay(_socks_connection(self.socks, host, port, timeout, source))
        if isinstance(host, str) and host.isascii():
            host = host.encode("ascii")
        return nodelay(socket.create_connection((host, port), timeout, source))

    def putrequest(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        super().putrequest(method, url, *args, **kwargs)  # type: ignore[misc]
        for name, value in self.proxy_headers.items():
            self.putheader(name, value)  # type: ignore[attr-defined]


class Plain(Bounded, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, blocksize=_BLOCK)
        self._setup()


class Https(Bounded, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, timeout: float, context: Any) -> None:
        super().__init__(host, port, timeout=timeout, context=context, blocksize=_BLOCK)
        self._setup()


def _socks_connection(proxy: Any, host: Any, port: int, timeout: Any, source: Any) -> Any:
    """A socket to ``host:port`` through the SOCKS proxy ``proxy`` (a ``urlsplit`` result)."""
    try:
        import socks  # PySocks: the ``socks`` extra
    except ImportError:
        raise OSError(
            f"a {proxy.scheme}:// proxy needs PySocks: pip install 'releasetag[socks]'"
        ) from None
    kind = socks.SOCKS4 if proxy.scheme.startswith("socks4") else socks.SOCKS5
    return socks.create_connection(
        (host, port),
        timeout,
        source,
        proxy_type=kind,
        proxy_addr=proxy.hostname,
        proxy_port=proxy.port or 1080,
        proxy_rdns=proxy.scheme in ("socks5h", "socks4a"),
        proxy_username=unquote(proxy.username) if proxy.username else None,
        proxy_password=unquote(proxy.password) if proxy.password else None,
    )
