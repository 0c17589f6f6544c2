"""The collector's HTTP/1.1 server: waitress around the WSGI app, with stricter framing.

waitress reads each request (headers and the whole body, de-chunked) before a worker thread
sees it, so a client that dies or half-closes mid-send never reaches the app, and idle or
slow connections cost no thread. What is added here, on waitress's own header tokenizer:

- refusals (400 and a closed connection, RFC 9112) of ambiguous framing that waitress would
  resolve silently: Content-Length beside Transfer-Encoding, Transfer-Encoding other than
  exactly ``chunked`` or in an HTTP/1.0 request, more than one Content-Length, folded
  header lines; 431 over 100 header lines, 505 for HTTP versions other than 1.0 and 1.1;
- a deadline for the request line and headers (``HEADER_TIMEOUT``), on top of waitress's idle
  timeout, and a connection cap from the open-file limit;
- protocol errors answered as one-line JSON, like the app's own errors;
- ``releasetag.local_addr`` in the environ (the address the connection arrived on, for the
  Host check in access.py).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
from waitress.server import create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import BadRequest, Error, RequestHeaderFieldsTooLarge

from .request_response import MAX_BODY

log = logging.getLogger("releasetag.collector")

MAX_HEADER_BYTES = 65536  # request line and headers together
MAX_HEADERS = 100
HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
IDLE_TIMEOUT = 60  # seconds an idle keep-alive connection stays open
THREADS = 8  # worker threads running the app (SQLite writes are serialized anyway)


class VersionNotSupported(Error):
    code = 505
    reason = "HTTP Version Not Supported"


def framing_problem(header_plus: bytes, version: str) -> Optional[Error]:
    """What makes a request's framing ambiguous, after waitress accepted its header lines."""
    lines = [line for line in header_plus.split(b"\r\n")[1:] if line]
    if len(lines) > MAX_HEADERS:
        return RequestHeaderFieldsTooLarge(f"more than {MAX_HEADERS} header lines")
    if any(line[:1] in (b" ", b"\t") for line in lines):
        return BadRequest("folded header lines are not accepted")
    if version not in ("1.0", "1.1"):
        if not version:
            return BadRequest("the request line has no HTTP version")
        return VersionNotSupported(f"HTTP version {version} is not supported")
    fields = [(name.lower(), value.strip(b" \t")) for name, value in _split(lines)]
    lengths = [value for name, value in fields if name == b"content-length"]
    codings = [value for name, value in fields if name == b"transfer-encoding"]
    if len(lengths) > 1:
        return BadRequest("more than one Content-Length")
    if codings:
        if version != "1.1":
            return BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        if lengths:
            return BadRequest("Content-Length and Transfer-Encoding together")
        if len(codings) != 1 or codings[0].lower() != b"chunked":
            return BadRequest("Transfer-Encoding other than exactly 'chunked'")
    return None


def _split(lines: List[bytes]) -> List[Tuple[bytes, bytes]]:
    pairs = [line.split(b":", 1) for line in lines]
    return [(pair[0], pair[1]) for pair in pairs if len(pair) == 2]


class _Parser(HTTPRequestParser):
    """waitress's parser, refusing what ``framing_problem`` names."""

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except TransferEncodingNotImplemented as exc:
            raise ParsingError(str(exc)) from None
        problem = framing_problem(header_plus, self.version)
        if problem is not None:  # answered at once, the body (if any) never read
            self.error = problem
            self.completed = True
            self.content_length = 0
            self.chunked = False
            self.body_rcv = None


class _ErrorTask(ErrorTask):
    """Protocol errors as ``{"detail": ...}`` (one line), and the connection closes."""

    def execute(self) -> None:
        error = self.request.error
        detail = str(error.body).strip() or error.reason
        if error.code == 413:
            detail = f"request body is over the limit of {MAX_BODY} bytes"
        body = json.dumps({"detail": detail}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Task(WSGITask):
    def get_environment(self) -> Any:
        environ = super().get_environment()
        environ["releasetag.local_addr"] = self.channel.local_addr
        return environ


class _Channel(HTTPChannel):
    """A connection: closes when a request's headers take longer than HEADER_TIMEOUT."""

    parser_class = _Parser
    task_class = _Task
    error_task_class = _ErrorTask
    _timed: Any = None
    _header_deadline = 0.0

    def __init__(self, server: Any, sock: socket.socket, addr: Any, adj: Any, map: Any) -> None:
        super().__init__(server, sock, addr, adj, map=map)
        try:
            self.local_addr = str(sock.getsockname()[0])
        except OSError:
            self.local_addr = ""

    def received(self, data: bytes) -> bool:
        result = super().received(data)
        if self.request is not None and self.request is not self._timed:
            self._timed, self._header_deadline = self.request, time.monotonic() + HEADER_TIMEOUT
        return result

    def readable(self) -> bool:
        request = self.request
        if (
            request is not None
            and not request.headers_finished
            and time.monotonic() > self._header_deadline
        ):
            self.will_close = True  # the loop closes it on its next pass
        return bool(super().readable())

    def handle_close(self) -> None:
        """Send FIN after the answer and drop what the client already sent, so that closing
        with unread bytes does not reset the connection before the client reads the answer."""
        sock = self.socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_WR)
                for _ in range(16):  # at most 1 MiB, never blocking (the socket is non-blocking)
                    if not sock.recv(65536):
                        break
            except OSError:
                pass
        super().handle_close()


def _connection_limit() -> int:
    """Connections at once: up to 1000, leaving half the open-file limit for the rest."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 100
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, soft // 2))


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on the first address ``host`` resolves to (OSError when it cannot)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class CollectorServer:
    """The collector's server: ``serve_forever``, ``shutdown`` (from another thread) and
    ``server_close``, as the standard library's servers have them."""

    def __init__(self, address: Tuple[str, int], app: Callable[..., Any]) -> None:
        sock = _listen(*address)
        self.server_address: Tuple[str, int] = sock.getsockname()[:2]
        # more clients than worker threads is normal here, not worth a warning per request
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._map: dict = {}
        self._server: Any = create_server(
            app,
            map=self._map,
            sockets=[sock],
            threads=THREADS,
            connection_limit=_connection_limit(),
            channel_timeout=IDLE_TIMEOUT,
            cleanup_interval=5,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_BODY + 1,
            asyncore_use_poll=True,
            ident="releasetag-collector",
            log_socket_errors=False,  # a client that resets is no news (no traceback)
            send_bytes=1,  # the worker thread sends the answer itself, no hand-over
        )
        self._server.channel_class = _Channel
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until ``shutdown`` is called (or the calling thread is interrupted)."""
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=poll_interval, map=self._map, use_poll=True, count=1)
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (running in another thread) and wait for it."""
        self._stop.set()
        self._server.pull_trigger()
        self._stopped.wait(10)

    def server_close(self) -> None:
        """Close the listening socket and every connection; running requests finish first."""
        self._stop.set()
        self._server.task_dispatcher.shutdown(timeout=10)
        channels: List[Any] = list(self._map.values())
        for channel in channels:
            try:
                channel.close()
            except OSError:
                pass
        self._map.clear()
