"""Graceful shutdowns lose nothing without an option: requests in flight when uvicorn is told
to stop finish, and every request's session arrives (uvicorn re-raises the signal after its
graceful shutdown, so atexit never runs)."""

from __future__ import annotations

import signal
import threading

import pytest

from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow


def _sessions(recorder):
    counts = {}
    for request in recorder.envelopes():
        for item in request.items:
            if item.type == "sessions":
                for entry in item.json()["aggregates"]:
                    for key in ("exited", "errored", "crashed"):
                        counts[key] = counts.get(key, 0) + entry.get(key, 0)
    return counts


APPS = {
    "uvicorn": "tests.crashes.apps.shutdown_asgi:app",
    "hypercorn": "tests.crashes.apps.shutdown_asgi:app",
    "gunicorn": "tests.crashes.apps.crash_wsgi:app",
}


@pytest.mark.parametrize(
    "kind, signum",
    [
        ("uvicorn", signal.SIGTERM),
        ("uvicorn", signal.SIGINT),
        ("hypercorn", signal.SIGTERM),
        ("gunicorn", signal.SIGTERM),
    ],
)
def test_a_server_stopped_with_requests_in_flight_sends_every_session(
    recorder, tmp_path, kind, signum
):
    env = {"APP_DSN": recorder.dsn(), "APP_SPOOL": str(tmp_path / "spool")}
    server = WebServer(kind, APPS[kind], env, workers=1)
    in_flight = 1 if kind == "gunicorn" else 2  # one sync worker serves one at a time
    try:
        for _ in range(3):
            assert server.request("/")[0] == 200
        answers = []
        slow = [
            threading.Thread(target=lambda: answers.append(server.request("/slow")[0]))
            for _ in range(in_flight)
        ]
        for thread in slow:
            thread.start()
        threading.Event().wait(0.3)  # both in flight
        server.proc.send_signal(signum)
        for thread in slow:
            thread.join(10)
        code = server.proc.wait(15)
        if kind == "uvicorn":
            assert code == (-signum if signum == signal.SIGTERM else 0)  # SIGTERM: re-raised
    finally:
        server.stop()
    assert answers == [200] * in_flight
    assert _sessions(recorder) == {"exited": 3 + in_flight, "errored": 0, "crashed": 0}
