"""Real servers for web-integration tests: uvicorn, hypercorn or gunicorn running one app on
127.0.0.1 (a free port the server picks), a small HTTP and websocket client, and cleanup."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Tuple

from tests.support.recorder import ROOT

_LISTENING = {
    "uvicorn": r"Uvicorn running on http://127\.0\.0\.1:(\d+)",
    "hypercorn": r"Running on http://127\.0\.0\.1:(\d+)",
    "gunicorn": r"Listening at: http://127\.0\.0\.1:(\d+)",
    "gunicorn-uvicorn": r"Listening at: http://127\.0\.0\.1:(\d+)",
}


def _command(kind: str, app: str, workers: int) -> List[str]:
    if kind == "uvicorn":
        return [
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-access-log",
            "--loop",
            "asyncio",
            "--timeout-graceful-shutdown",
            "5",
        ]
    if kind == "hypercorn":
        return ["-m", "hypercorn", "--bind", "127.0.0.1:0", app]
    worker_class = ["-k", "uvicorn.workers.UvicornWorker"] if kind == "gunicorn-uvicorn" else []
    return [
        "-m",
        "gunicorn",
        *worker_class,
        "--workers",
        str(workers),
        "--bind",
        "127.0.0.1:0",
        "--graceful-timeout",
        "5",
        app,
    ]


class WebServer:
    """``kind`` is uvicorn, hypercorn, gunicorn or gunicorn-uvicorn (uvicorn's worker class); ``env`` is added to the app's environment."""

    def __init__(
        self, kind: str, app: str, env: Dict[str, str], workers: int = 2, args: Tuple[str, ...] = ()
    ) -> None:
        full_env = {
            **os.environ,
            "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **env,
        }
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, *_command(kind, app, workers), *args],  # args: more options
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: List[str] = []
        self.port: Optional[int] = None
        booted = 0
        need = workers if kind.startswith("gunicorn") else 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (self.port is None or booted < need):
            line = self.proc.stderr.readline()  # type: ignore[union-attr]
            if not line:
                break
            self.log.append(line)
            found = re.search(_LISTENING[kind], line)
            if found:
                self.port = int(found.group(1))
            if "Booting worker" in line:
                booted += 1
        if self.port is None or booted < need:
            self.stop()
            raise RuntimeError(f"{kind} did not start:\n" + "".join(self.log))
        # keep reading: a server that logs tracebacks must never block on a full pipe
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()

    def _read_log(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.log.append(line)

    def request(
        self,
        path: str,
        method: str = "GET",
        body: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[Optional[int], bytes]:
        """(status, body); status None when the connection broke (a failed stream)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            try:
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                return resp.status, b""
        except (http.client.HTTPException, OSError) as err:
            return None, str(err).encode()
        finally:
            conn.close()

    def post_json(self, path: str, payload: object) -> Tuple[Optional[int], bytes]:
        return self.request(
            path, "POST", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )

    def websocket_text(self, path: str, text: str) -> bytes:
        """Open a websocket, send one text frame, return what came back before it closed."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                (
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                ).encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return head
                head += chunk
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                return head
            data = text.encode()
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(data)) + mask + masked)
            rest = b""
            while True:
                try:
                    chunk = sock.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                rest += chunk
            return rest
        finally:
            sock.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        drain = getattr(self, "_drain", None)
        if drain is not None:
            drain.join(5)
        elif self.proc.stderr is not None:
            self.log.extend(self.proc.stderr.readlines())
