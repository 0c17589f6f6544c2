"""HTTP framing against a real collector over raw sockets: ambiguous framing is refused with
400 and a closed connection, requests cut short store nothing, slow clients do not take the
collector offline (RFC 9112; issue 24 items 5 and 9)."""

from __future__ import annotations

import socket
import time
import uuid
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Item, event_envelope
from tests.support.collector import Collector


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    c = Collector(str(tmp_path_factory.mktemp("framing") / "data"))
    try:
        yield c
    finally:
        c.stop()


def _port(collector) -> int:
    return Dsn.parse(collector.dsn).port


def _head(collector, version: str = "1.1") -> bytes:
    dsn = Dsn.parse(collector.dsn)
    return (
        f"POST /api/{dsn.project_id}/envelope/ HTTP/{version}\r\nHost: 127.0.0.1\r\n"
        f"X-Sentry-Auth: {dsn.auth_header()}\r\n"
    ).encode()


def _chunked(body: bytes, size_form: str = "{:x}") -> bytes:
    parts = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"".join(size_form.format(len(p)).encode() + b"\r\n" + p + b"\r\n" for p in parts)


def _talk(collector, data: bytes, half_close: bool = False, wait: float = 5) -> Tuple[bytes, bool]:
    """Send ``data``; (everything answered, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", _port(collector)), timeout=wait) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return out, True
                out += chunk
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True


def _statuses(answer: bytes) -> List[int]:
    return [int(line[9:12]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.")]


def _stored(collector, event_id: str) -> bool:
    status, _ = collector.request(
        "GET", f"/api/0/projects/{collector.org}/{collector.project}/events/{event_id}/"
    )
    return status == 200


def _event() -> Tuple[str, bytes]:
    event_id = uuid.uuid4().hex
    return event_id, event_envelope({"event_id": event_id, "message": "framed"}).serialize()


def test_ambiguous_framing_is_400_closes_and_stores_nothing(shared):
    cases = {
        "CL then TE": lambda b: b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(b),
        "TE then CL": lambda b: b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % len(b),
        "two Content-Lengths": lambda b: (
            b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(b), len(b) + 5)
        ),
        "negative Content-Length": lambda b: b"Content-Length: -%d\r\n" % len(b),
        "TE xchunked": lambda b: b"Transfer-Encoding: xchunked\r\n",
        "TE chunked, identity": lambda b: b"Transfer-Encoding: chunked, identity\r\n",
        "TE gzip, chunked": lambda b: b"Transfer-Encoding: gzip, chunked\r\n",
        "TE chunked twice": lambda b: (
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
        ),
        "space before the colon": lambda b: b"Transfer-Encoding : chunked\r\n",
        "space before the colon (CL)": lambda b: b"Content-Length : %d\r\n" % len(b),
    }
    failures = []
    for name, framing in cases.items():
        event_id, body = _event()
        payload = _chunked(body) + b"0\r\n\r\n" if b"chunked" in framing(body) else body
        follow = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # a smuggled request
        answer, closed = _talk(shared, _head(shared) + framing(body) + b"\r\n" + payload + follow)
        if _statuses(answer) != [400] or not closed or _stored(shared, event_id):
            failures.append((name, answer[:60], closed))
    # HTTP/1.0 with Transfer-Encoding: the framing is faulty whatever it says
    event_id, body = _event()
    head = _head(shared, "1.0") + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n"
    answer, closed = _talk(shared, head % len(body) + body)
    if _statuses(answer) != [400] or not closed or _stored(shared, event_id):
        failures.append(("HTTP/1.0 with TE", answer[:60], closed))
    assert failures == []
    assert shared.request("GET", "/health", token=None)[0] == 200


def test_requests_cut_short_store_nothing_and_the_retry_stores_everything(shared):
    event_id = uuid.uuid4().hex
    envelope = event_envelope({"event_id": event_id, "message": "with an attachment"})
    envelope.items.append(Item({"type": "attachment", "filename": "log.txt"}, b"x" * 3000))
    body = envelope.serialize()
    cut = body.rindex(b"\n", 0, body.index(b'"attachment"')) + 1  # the event item, whole
    full = _head(shared) + b"Content-Length: %d\r\n\r\n" % len(body)
    for half_close in (True, False):  # the client half-closes, or dies
        with socket.create_connection(("127.0.0.1", _port(shared)), timeout=10) as sock:
            sock.sendall(full + body[:cut])
            if half_close:
                sock.shutdown(socket.SHUT_WR)
                answer = sock.recv(65536)
                assert _statuses(answer) in ([], [400]), answer
        assert not _stored(shared, event_id)
    # a chunked body without its last chunk
    chunked = _head(shared) + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body)
    answer, _ = _talk(shared, chunked, half_close=True)
    assert _statuses(answer) in ([], [400]) and not _stored(shared, event_id)
    # headers that end at EOF are not a request
    answer, _ = _talk(shared, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", half_close=True)
    assert _statuses(answer) in ([], [400]), answer
    # the retry is whole and is stored whole
    answer, _ = _talk(shared, full + body, half_close=True)
    assert _statuses(answer) == [200]
    assert [a["filename"] for a in shared.event(event_id)["attachments"]] == ["log.txt"]


_LENGTH_NAMES = st.sampled_from(
    ["Content-Length", "content-length", "CONTENT-LENGTH", "Content-length"]
)
_TE_NAMES = st.sampled_from(["Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING"])
_TE_VALUES = st.sampled_from(
    ["chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "\tchunked", "chunked,", "xchunked",
     "chunked, chunked", "identity, chunked", "chunked;q=1", "chunkedx", '"chunked"']
)  # fmt: skip
_SIZE_FORMS = st.sampled_from(
    ["{:x}", "{:X}", "000{:x}", "{:x};ext=1", "{:x} ", " {:x}", "0x{:x}", "+{:x}", "{:x};"]
)
_WS = st.sampled_from(["", " ", "  ", "\t"])


def _unambiguous(lengths: List[str], codings: List[str], size_form: str, version: str) -> bool:
    """Only a single Content-Length, or (HTTP/1.1) a single exactly-chunked coding with
    chunk sizes of hex digits and well-formed extensions, frames a request one way."""
    if codings:
        return (
            version == "1.1"
            and not lengths
            and len(codings) == 1
            and codings[0].strip(" \t").lower() == "chunked"
            and size_form in ("{:x}", "{:X}", "000{:x}", "{:x};ext=1")
        )
    return len(lengths) == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lengths=st.lists(st.tuples(_LENGTH_NAMES, _WS, _WS), max_size=2),
    codings=st.lists(st.tuples(_TE_NAMES, _WS, _TE_VALUES), max_size=2),
    size_form=_SIZE_FORMS,
    version=st.sampled_from(["1.1", "1.1", "1.0"]),
)
def test_nothing_ambiguous_is_ever_stored(shared, lengths, codings, size_form, version):
    event_id, body = _event()
    head = _head(shared, version)
    for name, before, after in lengths:
        head += f"{name}:{before}{len(body)}{after}\r\n".encode()
    for name, before, value in codings:
        head += f"{name}:{before}{value}\r\n".encode()
    payload = _chunked(body, size_form) + b"0\r\n\r\n" if codings else body
    answer, _ = _talk(shared, head + b"\r\n" + payload, half_close=True)
    values = [value for _, _, value in codings]
    if _unambiguous([n for n, _, _ in lengths], values, size_form, version):
        assert _statuses(answer) == [200], answer[:200]
        assert _stored(shared, event_id)
    else:
        assert _statuses(answer) in ([], [400], [411], [501]), answer[:200]
        assert 200 not in _statuses(answer) and not _stored(shared, event_id)


def test_many_idle_and_slow_connections_leave_room_for_a_normal_client(shared):
    socks = []
    try:
        for i in range(300):
            sock = socket.create_connection(("127.0.0.1", _port(shared)), timeout=10)
            if i % 3 == 0:  # a third send part of a request and stop
                sock.sendall(_head(shared) + b"X-Slow: ")
            socks.append(sock)
        event_id, body = _event()
        answer, _ = _talk(
            shared, _head(shared) + b"Content-Length: %d\r\n\r\n" % len(body) + body, True, 10
        )
        assert _statuses(answer) == [200] and _stored(shared, event_id)
    finally:
        for sock in socks:
            sock.close()


def test_slow_headers_are_cut_off(shared):
    with socket.create_connection(("127.0.0.1", _port(shared)), timeout=2) as sock:
        sock.sendall(_head(shared))
        deadline = time.monotonic() + 25  # the header deadline is 10 s
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                sock.sendall(b"X")  # one byte a second: never idle, never done
                sock.settimeout(1)
                closed = sock.recv(1024) == b""
            except socket.timeout:
                continue
            except OSError:  # reset or broken pipe: closed too
                closed = True
    assert closed
