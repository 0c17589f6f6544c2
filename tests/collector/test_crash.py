"""kill -9 of ``releasetag serve`` during ingest loses no event that was answered 200."""

from __future__ import annotations

import http.client
import threading
import time
import uuid

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope
from tests.support.collector import Collector


def _sender(dsn: Dsn, port: int, acked: list, stop: threading.Event) -> None:
    conn = None
    while not stop.is_set():
        event_id = uuid.uuid4().hex
        body = event_envelope(
            {"event_id": event_id, "message": "crash test", "release": "crash@1"}
        ).serialize()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "POST",
                f"/api/{dsn.project_id}/envelope/",
                body,
                {
                    "X-Sentry-Auth": dsn.auth_header(),
                    "Content-Type": "application/x-sentry-envelope",
                },
            )
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                acked.append(event_id)
        except (OSError, http.client.HTTPException):
            return  # the server is gone


@pytest.mark.slow
def test_kill_9_during_ingest_keeps_every_acknowledged_event(tmp_path):
    data = str(tmp_path / "data")
    collector = Collector(data)
    dsn = Dsn.parse(collector.dsn)
    acked: list = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_sender, args=(dsn, dsn.port, acked, stop)) for _ in range(4)
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        collector.kill9()  # mid-stream: senders are still sending
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        collector.stop()
    assert len(acked) >= 300

    restarted = Collector(data)
    try:
        stored = {e["eventID"] for e in restarted.events(release="crash@1", limit="1000")}
        for event_id in acked:
            if event_id not in stored:  # past the first page: look it up directly
                assert restarted.event(event_id)["eventID"] == event_id
        total = restarted.api("GET", "/organizations/local/releases/crash@1/")["eventCount"]
        assert total >= len(acked)
    finally:
        restarted.stop()
