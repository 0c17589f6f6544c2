"""Test-side handle on a real ``releasetag serve`` subprocess (the local collector)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Sequence, Tuple

from tests.support.procs import stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _no_constant(name: str) -> Any:
    raise AssertionError(f"the collector answered {name}, which is not JSON")


def strict_json(payload: bytes) -> Any:
    """Parse an answer as a strict client would: UTF-8, no NaN or Infinity."""
    return json.loads(payload.decode("utf-8"), parse_constant=_no_constant)


class Collector:
    """Starts ``python -m releasetag serve --port 0 --data DIR --json`` and reads its info line."""

    def __init__(
        self,
        data_dir: str,
        token: Optional[str] = None,
        port: int = 0,
        extra_args: Sequence[str] = (),
        env: Optional[Dict[str, str]] = None,
        umask: Optional[int] = None,
    ) -> None:
        self.data_dir = data_dir
        cmd = [
            sys.executable,
            "-m",
            "releasetag",
            "serve",
            "--port",
            str(port),
            "--data",
            data_dir,
            "--json",
            *extra_args,
        ]
        if token:
            cmd += ["--token", token]
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.stderr_path = os.path.join(data_dir, "serve.stderr")
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=ROOT,
            preexec_fn=None if umask is None else (lambda: os.umask(umask)),
        )
        line = self.proc.stdout.readline().decode()
        try:
            self.info: Dict[str, Any] = json.loads(line)
        except ValueError:
            self.stop()
            raise RuntimeError(f"collector did not start: {line!r} {self.stderr()}") from None
        self.url: str = self.info["url"].rstrip("/")
        self.dsn: str = self.info["dsn"]
        self.token: str = self.info["token"]
        self.org: str = self.info["org"]
        self.project: str = self.info["project"]

    def stderr(self) -> str:
        with open(self.stderr_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def env(self) -> Dict[str, str]:
        """Environment for sentry-cli / releasetag CLI runs against this collector."""
        return dict(
            os.environ,
            SENTRY_URL=self.url + "/",
            SENTRY_AUTH_TOKEN=self.token,
            SENTRY_ORG=self.org,
            SENTRY_PROJECT=self.project,
            SENTRY_LOAD_DOTENV="0",
            SENTRY_DISABLE_UPDATE_CHECK="1",
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Optional[Dict[str, str]] = None,
        token: Optional[str] = "default",
        raw: Optional[bytes] = None,
        timeout: float = 30,
    ) -> Tuple[int, Any]:
        """(status, parsed JSON or bytes) of one request; never raises on HTTP errors."""
        hdrs = dict(headers or {})
        if token == "default":
            token = self.token
        if token:
            hdrs.setdefault("Authorization", f"Bearer {token}")
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, payload = resp.status, resp.read()
                ctype = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
            ctype = exc.headers.get("Content-Type", "")
        if "json" in ctype and payload:
            return status, strict_json(payload)
        return status, payload

    def api(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, payload = self.request(method, "/api/0" + path, body)
        assert status == expect, (status, payload)
        return payload

    def events(self, **query: str) -> list:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return self.api("GET", f"/projects/{self.org}/{self.project}/events/?{qs}")

    def event(self, event_id: str) -> Dict[str, Any]:
        return self.api("GET", f"/projects/{self.org}/{self.project}/events/{event_id}/")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.proc, 10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()
