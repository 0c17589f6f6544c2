"""A minimal chunk-upload server for the artifacts benchmark (not a collector).

Speaks just enough of the Web API for ``sourcemaps upload`` / ``debug-files upload``: chunk
options, chunk POSTs (gzip or plain parts, SHA-1 checked, only the hashes kept), and the
artifact bundle / DIF assemble endpoints answering which chunks are missing. Counts what it
received so a benchmark can report chunks and bytes sent.

Run: ``python bench/chunk_server.py`` prints ``PORT <n>``. ``GET /__stats__`` returns counters,
``POST /__reset__`` forgets everything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MiB = 1 << 20
_lock = threading.Lock()
_chunks: set = set()
_stats = {"chunk_requests": 0, "chunks": 0, "chunk_bytes": 0, "assemble": 0, "other": []}


def _parts(body: bytes, ctype: str):
    m = re.search(r"boundary=\"?([^\";]+)", ctype)
    if not m:
        return
    boundary = b"--" + m.group(1).encode()
    for raw in body.split(boundary)[1:]:
        if raw.startswith(b"--"):
            break
        head, _, data = raw.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = re.search(rb'name="([^"]+)"', head)
        yield (name.group(1).decode() if name else ""), data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, status: int, data) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if not size:
                    self.rfile.readline()
                    break
                out.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(out)
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        return raw

    def do_GET(self):
        self._body()
        path = urlsplit(self.path).path
        if path == "/__stats__":
            with _lock:
                return self._json(200, dict(_stats, stored=len(_chunks)))
        if path.endswith("/chunk-upload/"):
            host = self.headers.get("Host")
            return self._json(
                200,
                {
                    "url": f"http://{host}{path}",
                    "chunkSize": 8 * MiB,
                    "chunksPerRequest": 64,
                    "maxFileSize": 2048 * MiB,
                    "maxRequestSize": 32 * MiB,
                    "concurrency": 8,
                    "hashAlgorithm": "sha1",
                    "compression": ["gzip"],
                    "accept": [
                        "debug_files",
                        "release_files",
                        "pdbs",
                        "sources",
                        "bcsymbolmaps",
                        "il2cpp",
                        "portablepdbs",
                        "artifact_bundles",
                        "proguard",
                    ],
                    "maxWait": 60,
                },
            )
        with _lock:
            _stats["other"].append(f"GET {path}")
        return self._json(200, {})

    def do_POST(self):
        body = self._body()
        path = urlsplit(self.path).path
        if path == "/__reset__":
            with _lock:
                _chunks.clear()
                _stats.update(chunk_requests=0, chunks=0, chunk_bytes=0, assemble=0, other=[])
            return self._json(200, {})
        if path.endswith("/chunk-upload/"):
            got = []
            for name, data in _parts(body, self.headers.get("Content-Type", "")):
                if name == "file_gzip":
                    data = gzip.decompress(data)
                got.append((hashlib.sha1(data).hexdigest(), len(data)))
            with _lock:
                _stats["chunk_requests"] += 1
                for sha, size in got:
                    _stats["chunks"] += 1
                    _stats["chunk_bytes"] += size
                    _chunks.add(sha)
            return self._json(200, {})
        if path.endswith("/assemble/"):
            req = json.loads(body or b"{}")
            with _lock:
                _stats["assemble"] += 1
                if "checksum" in req:  # artifact bundle
                    missing = [c for c in req.get("chunks", []) if c not in _chunks]
                    return self._json(
                        200, {"state": "not_found" if missing else "ok", "missingChunks": missing}
                    )
                answer = {}
                for cs, entry in req.items():
                    missing = [c for c in entry.get("chunks", []) if c not in _chunks]
                    answer[cs] = {
                        "state": "not_found" if missing else "ok",
                        "missingChunks": missing,
                    }
                return self._json(200, answer)
        with _lock:
            _stats["other"].append(f"POST {path}")
        return self._json(200, {})

    do_PUT = do_POST


def main() -> None:
    server = ThreadingHTTPServer(
        ("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler
    )
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
