"""A small recording HTTP server, run as its own process by the tests.

It answers every request with a scripted response (default: 200 ``{"id": ...}`` for ingest,
200 ``{}`` otherwise), records method, path, query, headers and the (decompressed) body, and
exposes a control API under ``/__control__/``:

- ``GET  /__control__/requests``        -> JSON list of recorded requests (body base64 + text)
- ``POST /__control__/reset``           -> forget recorded requests and scripted responses
- ``POST /__control__/responses``       -> JSON list of rules appended to the script:
  ``{"path": "substring" (optional), "method": "GET" (optional), "status": 429,
  "headers": {...}, "body": "..." or {json}, "times": N (optional, default forever),
  "delay": seconds (optional), "hang": true (optional: accept, never answer),
  "missing_all": true (optional: answer an assemble request that every chunk it lists is
  missing; for difs/assemble, per file)}``

Start: ``python -m tests.support.recording_server [PORT [CERT_PEM]]`` (with CERT_PEM, a
certificate and its key, it speaks TLS) prints ``PORT <n>`` on stdout when ready.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_requests: list = []
_rules: list = []


def _decode_body(raw: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        if encoding == "br":  # sentry-sdk compresses with brotli when it is installed
            import brotli

            return brotli.decompress(raw)
    except Exception:
        return raw
    return raw


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict | None = None,
        content_type: str = "application/json",
    ) -> None:
        headers = dict(headers or {})
        for k in list(headers):
            if k.lower() == "content-type":  # the rule's own type replaces the default
                content_type = headers.pop(k)
        head = [
            f"HTTP/1.1 {status} X\r\n",
            f"Content-Type: {content_type}\r\n",
            f"Content-Length: {len(body)}\r\n",
        ]
        for k, v in headers.items():
            head.append(f"{k}: {v}\r\n")
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1") + body)
        self.wfile.flush()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        raw = self._read_body()
        url = urlsplit(self.path)
        if url.path.startswith("/__control__/"):
            return self._control(url.path, raw)
        body = _decode_body(raw, self.headers.get("Content-Encoding", ""))
        record = {
            "time": time.time(),
            "method": self.command,
            "path": url.path,
            "query": {k: v[0] for k, v in parse_qs(url.query).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_b64": base64.b64encode(body).decode(),
        }
        with _lock:
            rule = self._match_rule(url.path)
            # the status this request is answered with (None: never answered)
            record["status"] = (
                200 if rule is None else None if rule.get("hang") else int(rule.get("status", 200))
            )
            _requests.append(record)
        if rule is None:
            event_id = None
            m = re.match(rb'\{"event_id":"([0-9a-f]{32})"', body)
            if m:
                event_id = m.group(1).decode()
            return self._send(200, json.dumps({"id": event_id} if event_id else {}).encode())
        if rule.get("hang"):
            time.sleep(3600)
            return None
        if rule.get("delay"):
            time.sleep(float(rule["delay"]))
        rbody = rule.get("body", {})
        if rule.get("missing_all"):
            try:
                asked = json.loads(body or b"{}")
            except ValueError:
                asked = {}
            chunks = asked.get("chunks") if isinstance(asked, dict) else None
            rbody = {"state": "not_found", "missingChunks": chunks or []}
            if isinstance(asked, dict) and "chunks" not in asked:  # difs/assemble: per file
                rbody = {k: {"state": "not_found", "missingChunks": v.get("chunks") or []}
                         for k, v in asked.items() if isinstance(v, dict)}  # fmt: skip
        if not isinstance(rbody, str):
            rbody = json.dumps(rbody)
        return self._send(int(rule.get("status", 200)), rbody.encode(), rule.get("headers"))

    def _match_rule(self, path: str):
        for rule in _rules:
            if rule.get("path") and rule["path"] not in path:
                continue
            if rule.get("method") and rule["method"].upper() != self.command:
                continue
            if "times" in rule:
                if rule["times"] <= 0:
                    continue
                rule["times"] -= 1
            return rule
        return None

    def _control(self, path: str, raw: bytes) -> None:
        if path == "/__control__/requests":
            with _lock:
                data = json.dumps(_requests).encode()
            return self._send(200, data)
        if path == "/__control__/reset":
            with _lock:
                _requests.clear()
                _rules.clear()
            return self._send(200, b"{}")
        if path == "/__control__/responses":
            with _lock:
                _rules.extend(json.loads(raw or b"[]"))
            return self._send(200, b"{}")
        return self._send(404, b'{"detail": "unknown control path"}')

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = Server(("127.0.0.1", port), Handler)
    if len(sys.argv) > 2:  # a certificate + key PEM: speak TLS (the HTTPS benchmarks)
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"PORT {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
