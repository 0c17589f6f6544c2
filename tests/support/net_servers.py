"""Small servers for the HTTP layer's tests, each run as its own process on 127.0.0.1.

``python -m tests.support.net_servers MODE LOG [ARG]`` prints ``PORT <n>`` when ready and
appends one JSON line per request it receives to LOG (``{"line": ..., "headers": {...}}``):

- ``echo [CERT_PEM]``: answers every request with JSON ``{"path", "auth", "host"}``; a path
  holding ``/redirect/`` answers 302 to the URL after it; with CERT_PEM (a certificate and its
  key, from trustme) it speaks TLS;
- ``raw SCRIPT``: answers the Nth request with the Nth reply of the JSON list SCRIPT (latin-1
  text sent as is, then the connection is closed if it starts with ``CLOSE ``; ``"drip"``: headers of a 100000-byte answer, then one byte every 0.2 s);
- ``proxy``: a forward proxy: absolute-form requests forwarded, ``CONNECT`` tunnelled;
- ``socks``: a SOCKS5 proxy (no authentication, ``CONNECT`` to an IPv4 address or a name),
  logging ``{"line": "SOCKS5 host:port"}``.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time

LOG_LOCK = threading.Lock()


def _log(path: str, line: str, headers: dict) -> None:
    with LOG_LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"line": line, "headers": headers}) + "\n")


def _read_head(conn: socket.socket) -> tuple:
    """(request line, lower-cased headers, bytes read past the head) or None at EOF."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, rest


def _read_body(conn: socket.socket, headers: dict, rest: bytes) -> bytes:
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        data = conn.recv(65536)
        if not data:
            break
        rest += data
    return rest[length:]


def _each_request(conn: socket.socket, log: str):
    """Each request on ``conn`` (read whole and logged) as (request line, headers)."""
    while True:
        got = _read_head(conn)
        if got is None:
            return
        line, headers, rest = got
        _read_body(conn, headers, rest)
        _log(log, line, headers)
        yield line, headers


def _echo(conn: socket.socket, log: str) -> None:
    for line, headers in _each_request(conn, log):
        path = line.split(" ")[1]
        if "/redirect/" in path:
            target = path.split("/redirect/", 1)[1]
            head = f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
            conn.sendall(head.encode("latin-1"))
            continue
        body = json.dumps(
            {"path": path, "auth": headers.get("authorization"), "host": headers.get("host")}
        ).encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


def _raw(conn: socket.socket, log: str, script: list, counter: list) -> None:
    for _line, _headers in _each_request(conn, log):
        with LOG_LOCK:
            reply = script[min(counter[0], len(script) - 1)]
            counter[0] += 1
        if reply == "drip":
            conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100000):
                conn.sendall(b" ")
                time.sleep(0.2)
            return
        if reply.startswith("CLOSE "):  # the answer ends with the connection
            conn.sendall(reply[len("CLOSE ") :].encode("latin-1"))
            return
        conn.sendall(reply.encode("latin-1"))


def _pipe(a: socket.socket, b: socket.socket) -> None:
    socks = [a, b]
    while True:
        readable, _, _ = select.select(socks, [], [], 30)
        if not readable:
            return
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def _proxy(conn: socket.socket, log: str) -> None:
    got = _read_head(conn)
    if got is None:
        return
    line, headers, rest = got
    _log(log, line, headers)
    method, target, _ = line.split(" ", 2)
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)), 10)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:
        from urllib.parse import urlsplit

        url = urlsplit(target)
        upstream = socket.create_connection((url.hostname, url.port or 80), 10)
        path = url.path + (f"?{url.query}" if url.query else "")
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items() if k != "proxy-authorization"
        )
        upstream.sendall(head.encode("latin-1") + b"\r\n" + rest)
    with upstream:
        _pipe(conn, upstream)


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more:
            raise OSError("closed")
        data += more
    return data


def _socks(conn: socket.socket, log: str) -> None:
    _, count = _recv_exactly(conn, 2)
    _recv_exactly(conn, count)  # the methods offered
    conn.sendall(b"\x05\x00")  # no authentication
    _, command, _, kind = _recv_exactly(conn, 4)
    if kind == 1:
        host = socket.inet_ntoa(_recv_exactly(conn, 4))
    elif kind == 3:
        host = _recv_exactly(conn, _recv_exactly(conn, 1)[0]).decode()
    else:
        conn.sendall(b"\x05\x08\x00\x01" + bytes(6))
        return
    port = int.from_bytes(_recv_exactly(conn, 2), "big")
    _log(log, f"SOCKS5 {host}:{port}", {})
    upstream = socket.create_connection((host, port), 10)
    conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
    with upstream:
        _pipe(conn, upstream)


def main() -> None:
    mode, log = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    wrap = None
    if mode == "echo" and arg:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(arg)
        wrap = ctx
    script = json.load(open(arg, encoding="utf-8")) if mode == "raw" else None
    counter = [0]
    sys.stdout.write(f"PORT {listener.getsockname()[1]}\n")
    sys.stdout.flush()

    def serve(conn: socket.socket) -> None:
        try:
            if wrap is not None:
                conn = wrap.wrap_socket(conn, server_side=True)
            conn.settimeout(30)
            with conn:
                if mode == "echo":
                    _echo(conn, log)
                elif mode == "raw":
                    _raw(conn, log, script, counter)
                elif mode == "socks":
                    _socks(conn, log)
                else:
                    _proxy(conn, log)
        except (OSError, ValueError):
            pass

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
