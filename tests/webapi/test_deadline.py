"""Every Web API request ends within its stated bound, even against a server that sends its
answer one byte at a time (which never trips a read timeout)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.support.recorder import ROOT


class DrippingServer:
    """On 127.0.0.1: answers every request with headers, then one body byte every 0.2 s."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n")  # fmt: skip
                while not self.stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(0.2)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def dripping():
    server = DrippingServer()
    try:
        yield server
    finally:
        server.close()


def test_a_dripping_server_cannot_hold_the_cli_past_its_bound(dripping, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ROOT,
        "HOME": str(tmp_path),
        "SENTRY_URL": f"http://127.0.0.1:{dripping.port}/",
        "SENTRY_AUTH_TOKEN": "t0ken-abc",
        "SENTRY_ORG": "acme",
        "SENTRY_PROJECT": "web",
        "RELEASETAG_HTTP_TIMEOUT": "1",
        "RELEASETAG_HTTP_RETRIES": "0",
    }
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "releases", "new", "1.0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    took = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "no complete answer within 2 s" in proc.stderr
    assert dripping.connections == 1
    # the bound is timeout x attempts (2 s here) plus start-up; without it this never ends
    assert took < 20, took


def test_the_bound_counts_every_attempt_and_wait():
    from releasetag.build.config import Config
    from releasetag.build.webapi.client import MAX_RETRY_AFTER, ApiClient

    client = ApiClient(Config(url="http://127.0.0.1:9/", auth_token="t"), timeout=(2.0, 5.0),
                       retries=3)  # fmt: skip
    try:
        assert client.deadline == 4 * 7.0 + 3 * MAX_RETRY_AFTER
    finally:
        client.close()
