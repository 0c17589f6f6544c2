"""A real redis-server and a real Celery worker process, each on its own free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from tests.support.procs import stop_process
from tests.support.recorder import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.dir = tempfile.mkdtemp(prefix="rt-redis-")
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    self.dir,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready(10):
                return
            self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        stop_process(self.proc, 5)
        shutil.rmtree(self.dir, ignore_errors=True)


class CeleryWorker:
    """``celery worker -P prefork -c 2`` for tests/integrations/apps/celery_app.py."""

    def __init__(
        self,
        broker: str,
        dsn: str,
        app: str = "tests.integrations.apps.celery_app",
        **env_extra: str,
    ) -> None:
        env = dict(
            os.environ,
            APP_DSN=dsn,
            APP_BROKER=broker,
            APP_RELEASE="billing@3.1.0",
            APP_ENVIRONMENT="staging",
            PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **env_extra,
        )
        self.logfile = tempfile.NamedTemporaryFile(prefix="rt-celery-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "-P",
                "prefork",
                "-c",
                "2",
                "--loglevel",
                "INFO",
                "-n",
                "rtworker@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        log = self.log()
        self.stop()
        raise RuntimeError("celery worker did not start:\n" + log)

    def log(self) -> str:
        with open(self.logfile.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self) -> None:
        stop_process(self.proc, 20)  # SIGTERM: Celery's warm shutdown
        self.logfile.close()
        try:
            os.unlink(self.logfile.name)
        except OSError:
            pass
