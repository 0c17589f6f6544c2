"""The collector's HTTP/1.1 server around its WSGI app.

It keeps connections alive, sets TCP_NODELAY on accepted sockets, accepts chunked request
bodies and never reads past a declared Content-Length.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote_to_bytes

from .app import CollectorApp
from .http import MAX_BODY

log = logging.getLogger("releasetag.collector")

MAX_DRAIN = 256 * 1024 * 1024  # unread request bytes worth reading to keep a connection open


class _BodyReader(io.RawIOBase):
    """``wsgi.input`` over the socket, never reading past the declared Content-Length."""

    def __init__(self, rfile: Any, length: int) -> None:
        self.rfile = rfile
        self.remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        chunks = []
        while size > 0:
            data = self.rfile.read(size)
            if not data:
                self.remaining = 0
                break
            chunks.append(data)
            size -= len(data)
            self.remaining -= len(data)
        return b"".join(chunks)


def _read_chunked(rfile: Any, limit: int) -> Tuple[bytes, bool]:
    """Decode a chunked body up to ``limit + 1`` bytes; (data, fully_read)."""
    out = bytearray()
    while True:
        line = rfile.readline(1024)
        if not line:
            return bytes(out), False
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            return bytes(out), False
        if size == 0:
            while True:  # trailers
                trailer = rfile.readline(8192)
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(out), True
        if len(out) + size > limit:
            out += rfile.read(limit + 1 - len(out))
            return bytes(out), False
        out += rfile.read(size)
        rfile.readline(8)


MAX_HEADER_LINE = 65536
MAX_HEADERS = 100


class _Headers:
    """Request headers: case-insensitive ``get`` (first value), ``items`` in order.

    A small parser replaces http.client's email-based one, which costs more per request
    than the rest of an ingest (the collector answers many small requests)."""

    def __init__(self, pairs: List[Tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: Dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key.lower(), value)

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> Optional[str]:
        return self._first.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def items(self) -> List[Tuple[str, str]]:
        return list(self._pairs)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _read_headers(rfile: Any) -> _Headers:
    pairs: List[Tuple[str, str]] = []
    while True:
        line = rfile.readline(MAX_HEADER_LINE + 1)
        if len(line) > MAX_HEADER_LINE:
            raise _BadRequest(431, "header line too long")
        if line in (b"\r\n", b"\n", b""):
            return _Headers(pairs)
        if len(pairs) >= MAX_HEADERS:
            raise _BadRequest(431, f"more than {MAX_HEADERS} headers")
        if line[:1] in (b" ", b"\t"):
            raise _BadRequest(400, "folded header lines are not accepted")
        name, sep, value = line.decode("iso-8859-1").partition(":")
        name = name.strip()
        if not sep or not name or " " in name or "\t" in name:
            raise _BadRequest(400, "malformed header line")
        pairs.append((name, value.strip()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "releasetag-collector"
    timeout = 120  # idle keep-alive connections end after this many seconds

    def parse_request(self) -> bool:
        """Request line and headers (HTTP/1.0 and 1.1; 0.9 and 2.x are refused)."""
        self.command = None  # type: ignore[assignment]
        self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.requestline = line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")  # type: ignore[attr-defined]
        words = line.split()
        if not words:
            return False
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            version = words[2] if len(words) == 3 else "?"
            if len(words) == 3 and version.startswith("HTTP/"):
                self.send_error(505, f"HTTP version {version} is not supported")
            else:
                self.send_error(400, f"bad request line {line[:100]!r}")
            return False
        self.command, self.path, self.request_version = words
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")
        try:
            self.headers = _read_headers(self.rfile)  # type: ignore[assignment]
        except _BadRequest as exc:
            self.send_error(exc.status, exc.message)
            return False
        connection = (self.headers.get("Connection") or "").lower()
        self.close_connection = connection == "close" or self.request_version == "HTTP/1.0"
        if (
            self.headers.get("Expect") or ""
        ).lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _handle(self) -> None:
        app: CollectorApp = self.server.app  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        environ: Dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(self.server.server_address[0]),  # type: ignore[index]
            "SERVER_PORT": str(self.server.server_address[1]),  # type: ignore[index]
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "releasetag.local_addr": self.connection.getsockname()[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[name] = value
            else:
                environ["HTTP_" + name] = value
        reader: Optional[_BodyReader] = None
        complete = True
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data, complete = _read_chunked(self.rfile, MAX_BODY)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["releasetag.chunked"] = True
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
                complete = False
            reader = _BodyReader(self.rfile, max(length, 0))
            environ["wsgi.input"] = reader

        status_headers: List[Any] = []

        def start_response(status: str, headers: List[Tuple[str, str]], exc_info: Any = None):
            status_headers[:] = [status, headers]
            return lambda data: None

        body = b"".join(app(environ, start_response))
        status, headers = status_headers
        if reader is not None and 0 < reader.remaining <= MAX_DRAIN:
            while reader.read(1024 * 1024):  # drain what the app did not read, keep the
                pass  # connection usable and the client not reset
        if reader is not None and reader.remaining > 0:
            complete = False
        if not complete:
            self.close_connection = True
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for key, value in headers:
            self.send_header(key, value)
        if not complete:
            self.send_header("Connection", "close")
        # headers and body leave in one write (one packet for small answers, with TCP_NODELAY)
        self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
        self.flush_headers()

    def send_error(
        self, code: int, message: Optional[str] = None, explain: Optional[str] = None
    ) -> None:
        """Protocol-level errors as one-line JSON, and the connection closes."""
        body = json.dumps({"detail": message or self.responses.get(code, ("error",))[0]}).encode()
        self.close_connection = True
        self.send_response_only(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n" + (body if self.command != "HEAD" else b""))  # type: ignore[attr-defined]
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)


class CollectorServer(ThreadingHTTPServer):
    """The threaded HTTP server; ``app`` is the CollectorApp it serves."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], app: CollectorApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return sock, addr

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.app.ctx.store.close_thread()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)
