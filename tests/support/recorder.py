"""Test-side handle on a recording server process (see recording_server.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

from tests.support.procs import stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Recorded(dict):
    """One recorded request; ``body`` is the decompressed bytes."""

    @property
    def body(self) -> bytes:
        return base64.b64decode(self["body_b64"])

    def json(self) -> Any:
        return json.loads(self.body)

    def envelope(self):
        from releasetag.protocol.envelope import Envelope

        return Envelope.parse(self.body)


class Recorder:
    """Starts ``python -m tests.support.recording_server`` and talks to its control API."""

    def __init__(self, port: int = 0, tls: Optional[Tuple[str, str]] = None) -> None:
        """``tls``: (certificate + key PEM, CA PEM): the server speaks HTTPS as localhost."""
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.tls = tls
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.recording_server", str(port)]
            + ([tls[0]] if tls else []),
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"recording server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"https://localhost:{self.port}" if tls else f"http://127.0.0.1:{self.port}"

    def dsn(self, key: str = "publickey", project: int = 42) -> str:
        return f"http://{key}@127.0.0.1:{self.port}/{project}"

    def _control(self, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            f"{self.url}/__control__/{path}",
            data=data,
            method="POST" if data is not None or path == "reset" else "GET",
        )
        ctx = None
        if self.tls:
            import ssl

            ctx = ssl.create_default_context(cafile=self.tls[1])
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
            return json.loads(resp.read())

    def requests(self, path_contains: Optional[str] = None) -> List[Recorded]:
        reqs = [Recorded(r) for r in self._control("requests")]
        if path_contains:
            reqs = [r for r in reqs if path_contains in r["path"]]
        return reqs

    def envelopes(self) -> list:
        return [r.envelope() for r in self.requests("/envelope/")]

    def events(self) -> List[Dict[str, Any]]:
        out = []
        for env in self.envelopes():
            for item in env.items:
                if item.type == "event":
                    out.append(item.json())
        return out

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.05):
        """Poll until predicate(self) is truthy; return its value (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
            time.sleep(interval)

    def respond(self, *rules: Dict[str, Any]) -> None:
        self._control("responses", list(rules))

    def reset(self) -> None:
        self._control("reset", [])

    def restart(self) -> "Recorder":
        """Stop this server and start a fresh one on the same port (recordings start empty)."""
        self.stop()
        fresh = Recorder(self.port, self.tls)
        self.proc, self.port, self.url = fresh.proc, fresh.port, fresh.url
        return self

    def stop(self) -> None:
        stop_process(self.proc, 5)
        if self.proc.stdout:
            self.proc.stdout.close()
