"""WSGI under a real server: gunicorn with 2 prefork workers, a plain app and a Flask app."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support.recorder import ROOT

pytestmark = pytest.mark.slow


class Gunicorn:
    def __init__(self, app: str, dsn: str, *extra: str, env=None) -> None:
        env = {
            **os.environ,
            "APP_DSN": dsn,
            "APP_RELEASE": "shop@2.0.1",
            "APP_ENVIRONMENT": "production",
            "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                "127.0.0.1:0",
                "--graceful-timeout",
                "5",
                *extra,
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log = []
        deadline = time.monotonic() + 30
        booted = 0
        self.port = None
        while time.monotonic() < deadline and booted < 2:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
            if "Booting worker" in line:
                booted += 1
        if self.port is None or booted < 2:
            self.stop()
            raise RuntimeError("gunicorn did not start:\n" + "".join(self.log))

    def get(self, path: str, headers=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            return None, str(err).encode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stderr.close()


@pytest.fixture
def serve(recorder):
    servers = []

    def start(app, *extra):
        server = Gunicorn(app, recorder.dsn(), *extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


SECRET_HEADERS = {
    "Cookie": "session=s3cr3t",
    "Authorization": "Bearer tok3n",
    "X-Forwarded-For": "203.0.113.9",
    "X-Request-Id": "req-1",
}


def _events_after(server, recorder, count):
    """The events once ``count`` arrived and the server stopped: its workers flush as they
    exit, so anything extra (a duplicate) has arrived too."""
    recorder.wait_for(lambda r: len(r.events()) >= count, timeout=20)
    server.stop()
    return recorder.events()


def _check_request(event, path, query, port):
    req = event["request"]
    assert req["method"] == "GET"
    assert req["url"] == f"http://127.0.0.1:{port}{path}"
    assert req["query_string"] == query
    assert req["headers"]["Cookie"] == "[Filtered]"
    assert req["headers"]["Authorization"] == "[Filtered]"
    assert req["headers"]["X-Forwarded-For"] == "[Filtered]"
    assert req["headers"]["X-Request-Id"] == "req-1"
    assert req["env"] == {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(port)}
    assert "s3cr3t" not in repr(event) and "tok3n" not in repr(event)


@pytest.mark.timeout(90)
def test_plain_wsgi_app_under_gunicorn_prefork(serve, recorder):
    # --preload: init() runs in the master, the workers are forked from it
    server = serve("tests.integrations.apps.plain_wsgi:application", "--preload")
    assert server.get("/ok") == (200, b"hello")
    statuses = [server.get(f"/fail?n={i}", SECRET_HEADERS)[0] for i in range(6)]
    assert statuses == [500] * 6
    server.get("/stream-fail", SECRET_HEADERS)  # fails after the first chunk was sent
    events = _events_after(server, recorder, 7)
    assert len(events) == 7, [
        e.get("exception", {}).get("values", [{}])[-1].get("value") for e in events
    ]
    failed = sorted(
        (e for e in events if e["exception"]["values"][-1]["type"] == "ValueError"),
        key=lambda e: e["request"]["query_string"],
    )
    assert [e["request"]["query_string"] for e in failed] == [f"n={i}" for i in range(6)]
    for event in events:
        assert event["release"] == "shop@2.0.1"
        assert event["environment"] == "production"
        assert event["level"] == "error"  # unhandled, as sentry-sdk sends it
        exc = event["exception"]["values"][-1]
        assert exc["mechanism"] == {"type": "wsgi", "handled": False, "exception_id": 0}
        # the SDK's own frames (integrations/wsgi.py first) are never the app's, even when
        # releasetag is installed in editable mode as here
        sdk_frames = [f for f in exc["stacktrace"]["frames"] if "/releasetag/" in f["abs_path"]]
        assert sdk_frames and not [f for f in sdk_frames if f["in_app"]]
        assert exc["stacktrace"]["frames"][-1]["in_app"] is True
        assert event["tags"]["worker_pid"].isdigit()
    for i, event in enumerate(failed):
        _check_request(event, "/fail", f"n={i}", server.port)
        assert event["exception"]["values"][-1]["value"] == f"request failed: n={i}"
    (stream,) = [e for e in events if e["exception"]["values"][-1]["type"] == "RuntimeError"]
    _check_request(stream, "/stream-fail", "", server.port)
    assert stream["exception"]["values"][-1]["value"] == "failed while streaming"


@pytest.mark.timeout(90)
def test_flask_app_under_gunicorn_prefork(serve, recorder):
    server = serve("tests.integrations.apps.flask_app:app")
    assert server.get("/ok") == (200, b"hello")
    for i in range(4):
        assert server.get(f"/fail/item{i}?q=x{i}", SECRET_HEADERS)[0] == 500
    events = _events_after(server, recorder, 4)
    assert len(events) == 4
    events.sort(key=lambda e: e["tags"]["item"])
    for i, event in enumerate(events):
        assert event["release"] == "shop@2.0.1"
        assert event["environment"] == "production"
        assert event["tags"]["item"] == f"item{i}"  # tags never leak between requests
        exc = event["exception"]["values"][-1]
        assert exc["type"] == "KeyError"
        assert exc["mechanism"]["type"] == "flask" and exc["mechanism"]["handled"] is False
        _check_request(event, f"/fail/item{i}", f"q=x{i}", server.port)
        assert event["transaction"] == "/fail/<item>"  # Flask's rule; the path is in the URL
        assert event["transaction_info"] == {"source": "route"}
        assert "flask" in event["sdk"]["integrations"]
    # each request was a session, counted by the worker that served it and sent as it exited
    totals = {"exited": 0, "errored": 0, "crashed": 0}
    for envelope in recorder.envelopes():
        for item in envelope.items:
            if item.type == "sessions":
                assert item.json()["attrs"] == {
                    "release": "shop@2.0.1",
                    "environment": "production",
                }
                for bucket in item.json()["aggregates"]:
                    for key in totals:
                        totals[key] += bucket.get(key, 0)
    assert totals == {"exited": 1, "errored": 0, "crashed": 4}
