"""Request-mode sessions under gunicorn (2 prefork workers), side by side with sentry-sdk:
the same app, the same requests, the same counts in the ``sessions`` items."""

from __future__ import annotations

import collections
from typing import Dict, List

import pytest

from tests.integrations.test_wsgi_servers import Gunicorn
from tests.support.recorder import Recorder

pytestmark = pytest.mark.slow

REQUESTS = ["/ok"] * 7 + ["/handled"] * 3 + ["/crash"] * 2 + ["/stream"] * 4


def _session_items(recorder: Recorder) -> List[Dict]:
    out = []
    for envelope in recorder.envelopes():
        for item in envelope.items:
            if item.type in ("session", "sessions"):
                out.append({"type": item.type, "category": item.data_category, **item.json()})
    return out


def _totals(items: List[Dict]) -> Dict[str, int]:
    totals: Dict[str, int] = collections.Counter()
    for item in items:
        assert item["type"] == "sessions" and item["category"] == "session"
        assert item["attrs"] == {"release": "shop@3.1.0", "environment": "canary"}
        for bucket in item["aggregates"]:
            assert bucket["started"].endswith(":00.000000Z")  # truncated to the minute
            for key in ("exited", "errored", "crashed", "abnormal"):
                totals[key] += bucket.get(key, 0)
    return dict(totals)


def _run(sdk: str, *extra: str) -> Dict[str, int]:
    recorder = Recorder()
    env = {"APP_SDK": sdk, "APP_RELEASE": "shop@3.1.0", "APP_ENVIRONMENT": "canary"}
    server = Gunicorn(
        "tests.integrations.apps.health_wsgi:application", recorder.dsn(), *extra, env=env
    )
    try:
        statuses = [server.get(path)[0] for path in REQUESTS]
        assert statuses.count(500) == 2 and statuses.count(200) == len(REQUESTS) - 2
    finally:
        server.stop()  # the workers exit: each sends what it counted
    try:
        return _totals(_session_items(recorder))
    finally:
        recorder.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("preload", [False, True], ids=["fork-then-init", "init-then-fork"])
def test_request_sessions_match_sentry_sdk(preload):
    extra = ("--preload",) if preload else ()
    ours = _run("releasetag", *extra)
    theirs = _run("sentry", *extra)
    assert theirs == {"exited": 11, "errored": 3, "crashed": 2, "abnormal": 0}
    assert ours == theirs
