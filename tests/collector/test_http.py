"""The collector's HTTP layer over raw sockets: keep-alive, chunked bodies, bad requests."""

from __future__ import annotations

import socket
import uuid

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope


def _exchange(collector, data: bytes, timeout: float = 10) -> bytes:
    dsn = Dsn.parse(collector.dsn)
    with socket.create_connection(("127.0.0.1", dsn.port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk


def _status(answer: bytes) -> int:
    """The status code of a raw answer (HTTP/1.0 or 1.1 status line)."""
    assert answer.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), answer[:80]
    return int(answer[9:12])


def _envelope_request(collector, body: bytes, extra: str = "", chunked=False) -> bytes:
    dsn = Dsn.parse(collector.dsn)
    head = (
        f"POST /api/{dsn.project_id}/envelope/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Sentry-Auth: {dsn.auth_header()}\r\n{extra}"
    )
    if chunked:
        parts = [body[i : i + 100] for i in range(0, len(body), 100)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + payload
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_two_requests_on_one_connection_and_a_chunked_body(collector):
    ids = [uuid.uuid4().hex for _ in range(2)]
    first = _envelope_request(
        collector, event_envelope({"event_id": ids[0], "message": "one"}).serialize()
    )
    second = _envelope_request(
        collector, event_envelope({"event_id": ids[1], "message": "two"}).serialize(), chunked=True
    )
    out = _exchange(collector, first + second)
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert {e["eventID"] for e in collector.events()} == set(ids)


def test_bad_requests_get_errors_and_the_server_keeps_serving(collector):
    assert _status(_exchange(collector, b"NONSENSE\r\n\r\n")) == 400
    assert _status(_exchange(collector, b"GET / HTTP/2.0\r\n\r\n")) == 505
    long_header = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n"
    assert _status(_exchange(collector, long_header)) == 431
    many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(101)) + b"\r\n"
    assert _status(_exchange(collector, many)) == 431
    folded = b"GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"
    assert _status(_exchange(collector, folded)) == 400
    assert _status(_exchange(collector, b"GET /health HTTP/1.0\r\n\r\n")) == 200
    # a body that is cut short: the connection ends, nothing is stored
    dsn = Dsn.parse(collector.dsn)
    partial = (
        f"POST /api/{dsn.project_id}/envelope/ HTTP/1.1\r\nHost: x\r\n"
        f"X-Sentry-Auth: {dsn.auth_header()}\r\nContent-Length: 1000\r\n\r\n{{}}\n"
    ).encode()
    _exchange(collector, partial)
    assert collector.events() == []
    assert collector.request("GET", "/health", token=None)[0] == 200
