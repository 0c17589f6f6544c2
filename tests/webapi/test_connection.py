"""The Web API client's HTTP/1.1 connection: answers parsed from any bytes a server may send
(hypothesis), and real sockets on 127.0.0.1 for framing, keep-alive, interim answers,
proxies and hostile servers."""

from __future__ import annotations

import io
import socket
import threading
from typing import List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.build.config import Config
from releasetag.build.webapi.connection import (
    MAX_LINE,
    ConnectionClosed,
    ProtocolError,
    read_answer,
)
from releasetag.build.webapi.http import ApiClient, ApiError

pytestmark = pytest.mark.timeout(60)


# --- the parser on its own ------------------------------------------------------------
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_give_an_answer_or_an_oserror(data):
    try:
        answer = read_answer(io.BufferedReader(io.BytesIO(data)))
    except OSError:
        return  # ProtocolError / ConnectionClosed: what the client reports in one line
    assert 100 <= answer.status <= 999
    assert isinstance(answer.body, bytes)


header_names = st.from_regex(r"X-[A-Za-z0-9-]{1,12}", fullmatch=True)
header_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(200, 599).filter(lambda s: s not in (204, 304)),
    headers=st.dictionaries(header_names, header_values, max_size=5),
    body=st.binary(max_size=3000),
    framing=st.sampled_from(["length", "chunked", "close"]),
    cuts=st.lists(st.integers(1, 500), max_size=8),
    interim=st.booleans(),
)
def test_well_formed_answers_round_trip(status, headers, body, framing, cuts, interim):
    head = f"HTTP/1.1 {status} Whatever Reason\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if framing == "length":
        head += f"Content-Length: {len(body)}\r\n"
        payload = body
    elif framing == "chunked":
        head += "Transfer-Encoding: chunked\r\n"
        pieces, rest = [], body
        for cut in cuts:
            if rest:
                pieces.append(rest[:cut])
                rest = rest[cut:]
        if rest:
            pieces.append(rest)
        payload = (
            b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\nT: x\r\n\r\n"
        )
    else:
        payload = body
    raw = (b"HTTP/1.1 100 Continue\r\n\r\n" if interim else b"") + head.encode() + b"\r\n" + payload
    answer = read_answer(io.BufferedReader(io.BytesIO(raw)))
    assert (answer.status, answer.reason, answer.body) == (status, "Whatever Reason", body)
    for k, v in headers.items():
        if k.lower() not in ("content-length", "transfer-encoding"):
            assert answer.headers.get(k.upper()) is not None
    assert answer.will_close is (framing == "close")


@pytest.mark.parametrize(
    "raw, error",
    [
        (b"", ConnectionClosed),
        (b"SSH-2.0-OpenSSH_9.6\r\n", ProtocolError),
        (b"HTTP/1.1 2000 OK\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", ConnectionClosed),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_LINE + 10) + b"\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 300 + b"\r\n", ProtocolError),
    ],
)
def test_malformed_answers_are_named(raw, error):
    with pytest.raises(error):
        read_answer(io.BufferedReader(io.BytesIO(raw)))


# --- real sockets ---------------------------------------------------------------------
class RawServer:
    """Accepts connections on 127.0.0.1 and answers each request with the next scripted
    reply (bytes, or a callable given the socket); records each request's head."""

    def __init__(self, replies: List) -> None:
        self.replies = list(replies)
        self.heads: List[bytes] = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buf = b""
        with conn:
            while self.replies and not self.stop.is_set():
                try:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                except OSError:
                    return
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                self.heads.append(head)
                reply = self.replies.pop(0)
                if callable(reply):
                    if reply(conn) is False:
                        return
                else:
                    conn.sendall(reply)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def raw_server():
    servers: List[RawServer] = []

    def make(*replies) -> RawServer:
        servers.append(RawServer(list(replies)))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def _client(url: str, retries: int = 0) -> ApiClient:
    return ApiClient(Config(url=url, auth_token="tok", org="acme"), retries=retries, backoff=0)


def test_chunked_answer_and_keep_alive_on_one_connection(raw_server):
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n"
    )
    server = raw_server(chunked, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    with _client(server.url) as client:
        assert client.json("GET", "/a/") == [1, 2]
        assert client.json("POST", "/b/", json={"x": 1}) == {}
    assert server.connections == 1
    first, second = server.heads
    assert first.startswith(b"GET /api/0/a/ HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer tok" in first
    assert second.startswith(b"POST /api/0/b/ HTTP/1.1") and b"Content-Length: 8" in second


def test_interim_answer_is_skipped_and_http10_closes(raw_server):
    server = raw_server(
        b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\n\r\n{"version": "1"}',
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
    )
    with _client(server.url) as client:
        assert client.json("POST", "/r/", json={}) == {"version": "1"}
        assert client.json("GET", "/r/") == []
    assert server.connections == 2  # the first answer ended its connection


def test_a_dropped_keep_alive_connection_is_replaced_without_a_retry(raw_server):
    def answer_then_hang_up(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
        conn.shutdown(socket.SHUT_RDWR)
        return False

    server = raw_server(answer_then_hang_up, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    with _client(server.url, retries=0) as client:
        assert client.json("GET", "/a/") == []
        assert client.json("GET", "/b/") == {}  # retries=0: a fresh connection, not a retry
    assert server.connections == 2


def test_a_hostile_answer_is_one_line(raw_server):
    server = raw_server(b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_LINE + 5) + b"\r\n\r\n")
    with _client(server.url) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/a/")
    assert "longer than 65536 bytes" in info.value.message
    assert "\n" not in info.value.message


def test_plain_http_through_a_proxy_names_the_absolute_url(raw_server, monkeypatch):
    proxy = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with _client("http://sentry.invalid:9000/") as client:
        assert client.json("GET", "/organizations/") == []
    (head,) = proxy.heads
    assert head.startswith(b"GET http://sentry.invalid:9000/api/0/organizations/ HTTP/1.1")
    assert b"\r\nHost: sentry.invalid:9000" in head


def test_https_through_a_proxy_that_refuses_connect(raw_server, monkeypatch):
    proxy = raw_server(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with _client("https://sentry.invalid/") as client, pytest.raises(ApiError) as info:
        client.json("GET", "/organizations/")
    assert "the proxy refused to connect to sentry.invalid:443 (403)" in info.value.message
    assert proxy.heads[0].startswith(b"CONNECT sentry.invalid:443 HTTP/1.1")


def test_no_ssl_import_for_plain_http(tmp_path):
    """A plain-HTTP command never loads ssl (about 25 ms of start-up)."""
    import subprocess
    import sys

    code = (
        "import sys; from releasetag.cli.main import main; "
        "main(['releases', 'list', '--url', 'http://127.0.0.1:9/', '--auth-token', 't', "
        "'-o', 'a']); print('ssl' in sys.modules, 'http.client' in sys.modules, "
        "'requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "RELEASETAG_HTTP_RETRIES": "0",
                              "HOME": str(tmp_path)})  # fmt: skip
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


# --- HTTPS against a real TLS server ----------------------------------------------------
@pytest.fixture
def tls_server(tmp_path):
    """A threaded HTTPS server on 127.0.0.1 with a certificate from a throwaway CA
    (trustme); yields (url, path of the CA bundle)."""
    import json
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = json.dumps({"path": self.path, "auth": self.headers["Authorization"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}", str(ca_path)
    finally:
        server.shutdown()
        server.server_close()


def test_https_verifies_the_server_and_sends_the_token(tls_server, monkeypatch):
    url, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    with _client(url) as client:
        assert client.json("GET", "/organizations/") == {
            "path": "/api/0/organizations/",
            "auth": "Bearer tok",
        }
        assert client.json("GET", "/again/")["path"] == "/api/0/again/"  # kept alive


def test_https_with_an_unknown_ca_is_one_line(tls_server, monkeypatch):
    url, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with _client(url) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/organizations/")
    assert "certificate verify failed" in info.value.message
    assert info.value.message.startswith(f"cannot connect to {url}")
    assert "tok" not in info.value.message and "\n" not in info.value.message
