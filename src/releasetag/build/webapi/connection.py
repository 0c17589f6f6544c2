"""One HTTP/1.1 keep-alive connection for the Web API client, on a plain socket.

Why not ``http.client``: importing it imports ``ssl`` (and ``email``), about 25-30 ms of a
command's start-up on the machines we measured, paid even for a plain-HTTP server. A build
step's whole run is a few requests; here ``ssl`` is imported only for an HTTPS URL. The
runtime transport keeps ``http.client`` (its import happens once per process, off the
critical path).

What it speaks: a request line, headers and a body (bytes, sent with the headers in one
write, or a file streamed after them); answers with ``Content-Length``, ``chunked``
transfer coding or a body delimited by close; interim 1xx answers skipped; keep-alive unless
either side says ``close``. Proxies: plain HTTP through a proxy by absolute URL, HTTPS
through ``CONNECT``. Limits guard against a hostile server: a 64 KiB status line or header
line, 256 headers, and (``MAX_BODY``) the body.

Every failure is an ``OSError``: ``ConnectionClosed`` when the server closed the connection
before answering (a kept-alive connection it had dropped), ``ProtocolError`` for an answer
that is not HTTP/1.x.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Callable, Dict, List, Optional, Tuple

MAX_LINE = 65536
MAX_HEADERS = 256
MAX_BODY = 256 * 1024 * 1024
_BLOCK = 65536
_NO_BODY = frozenset({204, 304})


class ConnectionClosed(ConnectionError):
    """The server closed the connection without answering."""


class ProtocolError(OSError):
    """The answer is not HTTP/1.x (the message says what is wrong)."""


class Headers(dict):
    """Answer headers by lower-cased name (a repeated header's values joined by ", ")."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


class Answer:
    """A complete answer: status, reason, headers, body and whether the connection ends."""

    __slots__ = ("status", "reason", "headers", "body", "will_close")

    def __init__(
        self, status: int, reason: str, headers: Headers, body: bytes, will_close: bool
    ) -> None:
        self.status, self.reason, self.headers = status, reason, headers
        self.body, self.will_close = body, will_close


def _line(fp: Any, what: str) -> bytes:
    line = fp.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError(f"the server sent a {what} longer than {MAX_LINE} bytes")
    return line


def read_answer(fp: Any, method: str = "GET") -> Answer:
    """Read one answer from the buffered binary stream ``fp`` (interim 1xx answers skipped)."""
    while True:
        line = _line(fp, "status line")
        if not line:
            raise ConnectionClosed("the server closed the connection without answering")
        parts = line.rstrip(b"\r\n").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[0]) != 8:
            raise ProtocolError(f"the server's answer is not HTTP/1.x: {line[:80]!r}")
        try:
            status = int(parts[1])
        except ValueError:
            raise ProtocolError(f"the server's status is not a number: {parts[1][:20]!r}") from None
        if not 100 <= status <= 999 or len(parts[1]) != 3:
            raise ProtocolError(f"the server's status is not a 3-digit code: {parts[1][:20]!r}")
        reason = parts[2].decode("latin-1").strip() if len(parts) > 2 else ""
        headers = _read_headers(fp)
        if 100 <= status < 200 and status != 101:
            continue  # interim answer (100 Continue, 103 Early Hints): the real one follows
        break
    version_10 = parts[0] == b"HTTP/1.0"
    connection = (headers.get("connection") or "").lower()
    will_close = "close" in connection or (version_10 and "keep-alive" not in connection)
    if method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return Answer(status, reason, headers, b"", will_close)
    coding = (headers.get("transfer-encoding") or "").lower()
    if coding:
        if coding.rsplit(",", 1)[-1].strip() != "chunked":
            raise ProtocolError(f"the server used an unknown transfer coding: {coding[:40]!r}")
        body = _read_chunked(fp)
    elif "content-length" in headers:
        body = _read_exactly(fp, _content_length(headers["content-length"]))
    else:  # delimited by the end of the connection
        body = fp.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise ProtocolError(f"the server's answer is larger than {MAX_BODY} bytes")
        will_close = True
    return Answer(status, reason, headers, body, will_close)


def _read_headers(fp: Any) -> Headers:
    headers = Headers()
    for _ in range(MAX_HEADERS + 1):
        line = _line(fp, "header line")
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ConnectionClosed("the server closed the connection in the middle of its headers")
        name, sep, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if not sep or not name or " " in name or "\t" in name:
            raise ProtocolError(f"the server sent a malformed header line: {line[:80]!r}")
        value = value.strip()
        headers[name] = f"{dict.get(headers, name)}, {value}" if name in headers else value
    raise ProtocolError(f"the server sent more than {MAX_HEADERS} headers")


def _content_length(value: str) -> int:
    values = {v.strip() for v in value.split(",")}  # a repeated identical value is allowed
    if len(values) != 1:
        raise ProtocolError(f"the server sent conflicting Content-Length values: {value[:40]!r}")
    text = values.pop()
    if not text.isdigit():
        raise ProtocolError(f"the server sent a bad Content-Length: {text[:40]!r}")
    length = int(text)
    if length > MAX_BODY:
        raise ProtocolError(f"the server's answer is larger than {MAX_BODY} bytes")
    return length


def _read_exactly(fp: Any, n: int) -> bytes:
    data = fp.read(n) if n else b""
    if len(data) < n:
        raise ConnectionClosed(
            f"the server closed the connection after {len(data)} of {n} bytes of its answer"
        )
    return data


def _read_chunked(fp: Any) -> bytes:
    out = bytearray()
    while True:
        line = _line(fp, "chunk size line")
        if not line:
            raise ConnectionClosed("the server closed the connection in a chunked answer")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"the server sent a bad chunk size: {size_text[:20]!r}") from None
        if size < 0 or size_text.startswith((b"-", b"+", b"0x", b"0X")):
            raise ProtocolError(f"the server sent a bad chunk size: {size_text[:20]!r}")
        if size == 0:
            _read_headers(fp)  # trailers (ignored)
            return bytes(out)
        if len(out) + size > MAX_BODY:
            raise ProtocolError(f"the server's answer is larger than {MAX_BODY} bytes")
        out += _read_exactly(fp, size)
        if _read_exactly(fp, 2) != b"\r\n":
            raise ProtocolError("the server's chunk is not followed by CRLF")


class Connection:
    """A keep-alive connection to one origin (``scheme://host:port``), maybe via a proxy."""

    def __init__(
        self,
        url: str,
        *,
        proxy: Optional[str] = None,
        tls: Optional[Callable[[], Any]] = None,
    ) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.proxy = proxy
        self.tls = tls  # () -> ssl.SSLContext, for HTTPS
        self.sock: Optional[socket.socket] = None
        self._fp: Any = None
        if proxy:
            p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if p.scheme != "http":
                raise ProtocolError(
                    f"proxy {p.scheme}:// is not supported for the Web API: use an http:// proxy"
                )

    @property
    def absolute_form(self) -> bool:
        """Requests name the absolute URL (plain HTTP through a proxy)."""
        return bool(self.proxy) and self.scheme == "http"

    def connect(self, timeout: float) -> None:
        target = (self.host, self.port)
        if self.proxy:
            p = urlsplit(self.proxy if "://" in self.proxy else f"http://{self.proxy}")
            target = (p.hostname or "", p.port or 80)
        sock = socket.create_connection((_ascii(target[0]), target[1]), timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.proxy and self.scheme == "https":
                self._tunnel(sock)
            if self.scheme == "https":
                if self.tls is None:
                    raise ProtocolError("HTTPS needs a TLS context")
                sock = self.tls().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._fp = sock.makefile("rb")

    def _tunnel(self, sock: socket.socket) -> None:
        authority = f"{self.host}:{self.port}"
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode("idna"))
        fp = sock.makefile("rb")
        try:
            answer = read_answer(fp, "CONNECT")
        finally:
            fp.close()
        if answer.status != 200:
            raise ProtocolError(f"the proxy refused to connect to {authority} ({answer.status})")

    def request(
        self,
        method: str,
        target: str,
        headers: Dict[str, str],
        body: Any,
        timeout: Tuple[float, float],
    ) -> Answer:
        """Send one request and read its whole answer (``timeout``: connect, read)."""
        if self.sock is None:
            self.connect(timeout[0])
        assert self.sock is not None
        self.sock.settimeout(timeout[1])
        head = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header()}"]
        lower = {k.lower() for k in headers}
        stream: Optional[BinaryIO] = None
        if isinstance(body, (bytes, bytearray, memoryview)):
            if "content-length" not in lower:
                head.append(f"Content-Length: {len(body)}")
        elif body is not None:
            stream = body
            if "content-length" not in lower:
                raise ProtocolError("a streamed body needs a Content-Length header")
        elif method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: 0")
        for name, value in headers.items():
            if "\r" in name or "\n" in name or "\r" in str(value) or "\n" in str(value):
                raise ProtocolError(f"header {name!r} holds a line break")
            head.append(f"{name}: {value}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if stream is None:
            self.sock.sendall(data + bytes(body or b""))  # one write: no Nagle/delayed-ACK wait
        else:
            self.sock.sendall(data)
            while True:
                block = stream.read(_BLOCK)
                if not block:
                    break
                self.sock.sendall(block)
        answer = read_answer(self._fp, method)
        if answer.will_close:
            self.close()
        return answer

    def _host_header(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def dropped(self) -> bool:
        """True when an idle connection was closed by the server."""
        from releasetag.protocol.httpconn import is_dropped

        return self.sock is None or is_dropped(self)  # type: ignore[arg-type]

    def close(self) -> None:
        fp, sock, self._fp, self.sock = self._fp, self.sock, None, None
        for thing in (fp, sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass


def _ascii(host: str) -> Any:
    """An ASCII host as bytes: getaddrinfo would load the idna codec to encode a str."""
    return host.encode("ascii") if host.isascii() else host


__all__: List[str] = ["Connection", "Answer", "read_answer", "ConnectionClosed", "ProtocolError"]
