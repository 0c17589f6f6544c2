"""The same logs and metrics sent by sentry-sdk 2.76 and releasetag reach the recording server
as the same items, compared field by field (docs/logs.md lists the differences)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# values that differ by design or by run: the SDK's own name and version, ids of this process
VARYING = {"sentry.sdk.name", "sentry.sdk.version", "thread.id", "process.pid"}


def _run(which: str, recorder, tmp_path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), ROOT]))
    with open(tmp_path / f"{which}.out", "wb") as out:
        proc = subprocess.run(
            [sys.executable, os.path.join(HERE, "logs_child.py"), which, recorder.dsn()],
            cwd=HERE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
    assert proc.returncode == 0, (tmp_path / f"{which}.out").read_text()


def _items(recorder):
    out = {}
    for envelope in recorder.envelopes():
        for item in envelope.items:
            if item.type in ("log", "trace_metric"):
                headers = {k: v for k, v in item.headers.items() if k != "length"}
                out.setdefault(item.type, []).append((headers, item.json()))
    return out


def _by_key(entries, key):
    return {entry[key]: entry for entry in entries}


def _compare(ours, theirs):
    assert set(ours) == set(theirs)
    for field in theirs:
        if field == "timestamp":
            assert abs(ours[field] - theirs[field]) < 60
        elif field == "trace_id":
            assert re.fullmatch("[0-9a-f]{32}", ours[field])
        elif field == "attributes":
            assert set(ours[field]) == set(theirs[field])
            for name, value in theirs[field].items():
                assert ours[field][name]["type"] == value["type"], name
                if name not in VARYING:
                    assert ours[field][name] == value, name
        else:
            assert ours[field] == theirs[field], field


@pytest.mark.slow
def test_logs_and_metrics_match_sentry_sdk(recorder, tmp_path):
    _run("sentry", recorder, tmp_path)
    theirs = _items(recorder)
    recorder.reset()
    _run("releasetag", recorder, tmp_path)
    ours = _items(recorder)
    assert set(ours) == set(theirs) == {"log", "trace_metric"}
    for kind in ("log", "trace_metric"):
        assert [h for h, _ in ours[kind]] == [h for h, _ in theirs[kind]]
        assert all(p["version"] == 2 for _, p in ours[kind])
    key = {"log": "body", "trace_metric": "name"}
    for kind in ("log", "trace_metric"):
        mine = _by_key([e for _, p in ours[kind] for e in p["items"]], key[kind])
        peer = _by_key([e for _, p in theirs[kind] for e in p["items"]], key[kind])
        assert set(mine) == set(peer)
        for name in peer:
            _compare(mine[name], peer[name])
    logs = _by_key([e for _, p in ours["log"] for e in p["items"]], "body")
    # the template's failing format leaves the raw template as the body
    assert "broken {template" in logs
    assert {"stock apples low: 3 left", "dict x", "loguru says hi"} <= set(logs)
    paid = logs["order 42 paid by ann"]["attributes"]
    assert paid["sentry.release"] == {"value": "shop@2.0.1", "type": "string"}
    assert paid["sentry.message.parameter.order_id"] == {"value": 42, "type": "integer"}
