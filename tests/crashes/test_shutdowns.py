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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_uvicorn_stopped_with_requests_in_flight_sends_every_session(recorder, signum):
    server = WebServer("uvicorn", "tests.crashes.apps.shutdown_asgi:app", {"APP_DSN": recorder.dsn()})
    try:
        for _ in range(3):
            assert server.request("/")[0] == 200
        answers = []
        slow = [
            threading.Thread(target=lambda: answers.append(server.request("/slow")[0]))
            for _ in range(2)
        ]
        for thread in slow:
            thread.start()
        threading.Event().wait(0.3)  # both in flight
        server.proc.send_signal(signum)
        for thread in slow:
            thread.join(10)
        code = server.proc.wait(15)
        assert code == (-signum if signum == signal.SIGTERM else 0)  # SIGTERM: re-raised
    finally:
        server.stop()
    assert answers == [200, 200]
    assert _sessions(recorder) == {"exited": 5, "errored": 0, "crashed": 0}
