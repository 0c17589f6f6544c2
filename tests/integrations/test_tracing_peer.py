"""Side by side with sentry-sdk: the same program (tests/integrations/apps/peer_calls.py) run by
each SDK against the recording server; trace contexts, propagation headers and the breadcrumbs
of the stdlib, redis and sqlalchemy integrations are compared field by field."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Tuple

import pytest

from tests.integrations.celery_fixtures import RedisServer
from tests.support.recorder import Recorder

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRACE = "771a43a4192642f0b136d5159a501700"
PARENT = "1234567890abcdef"


@pytest.fixture(scope="module")
def downstream():
    """A second recording server: the service the program calls (it keeps the headers)."""
    server = Recorder()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


def _run(sdk: str, scenario: str, *extra: str) -> Tuple[Dict[str, Any], Recorder]:
    recorder = Recorder()
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.integrations.apps.peer_calls", sdk, scenario]
            + [recorder.dsn(), *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=60,
        )
        err.seek(0)
        assert proc.returncode == 0, err.read().decode()
    return json.loads(proc.stdout.decode().strip().splitlines()[-1]), recorder


def _errors(recorder: Recorder, count: int) -> List[Dict[str, Any]]:
    events = recorder.wait_for(lambda r: (lambda e: e if len(e) >= count else None)(r.events()))
    return [e for e in events if e.get("type") != "transaction"]


TRACE_KEYS = ("trace_id", "span_id", "parent_span_id", "op", "description", "origin")


@pytest.mark.parametrize("sdk", ["sentry_sdk", "releasetag"])
def test_trace_context_and_propagation_like_sentry_sdk_with_tracing_on(sdk, downstream):
    downstream.reset()
    seen, recorder = _run(sdk, "tracing", downstream.url)
    try:
        error, message = _errors(recorder, 2)
        outgoing = downstream.requests("/downstream/call")[0]["headers"]
    finally:
        recorder.stop()
    ctx = error["contexts"]["trace"]
    trace_id, span_id, parent = seen["inner"]
    assert (ctx["trace_id"], ctx["span_id"], ctx["parent_span_id"]) == (trace_id, span_id, parent)
    assert trace_id == TRACE and parent == seen["outer"][1]  # the incoming trace, continued
    assert (ctx["op"], ctx["description"], ctx["origin"]) == ("db.query", "select", "manual")
    assert error["transaction"] == "GET /orders"
    assert error["transaction_info"]["source"] == "custom"
    # the outgoing request from inside the outer span continues the trace from that span
    sent = {k.lower(): v for k, v in outgoing.items()}
    assert seen["traceparent"] == f"{TRACE}-{seen['outer'][1]}-1"
    # sentry-sdk names its own http.client child span as the parent; releasetag makes no span,
    # so the enclosing span is the parent (docs/migrating-from-sentry-sdk.tracing.md)
    assert re.fullmatch(f"{TRACE}-[0-9a-f]{{16}}-1", sent["sentry-trace"])
    if sdk == "releasetag":
        assert sent["sentry-trace"] == seen["traceparent"]
    assert sent["baggage"].startswith(f"sentry-trace_id={TRACE}")
    job_ctx = message["contexts"]["trace"]
    assert job_ctx["span_id"] == seen["job"] and job_ctx["trace_id"] == seen["batch"][0]
    assert job_ctx["parent_span_id"] == seen["batch"][1] and job_ctx["op"] == "job"
    assert message["transaction"] == "batch"


def _crumbs(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for crumb in event["breadcrumbs"]["values"]:
        if crumb.get("category") not in ("httplib", "subprocess", "redis", "query"):
            continue
        crumb = {k: v for k, v in crumb.items() if k != "timestamp"}
        data = dict(crumb.get("data") or {})
        data.pop("url", None)  # the recording server's port differs between the two runs
        crumb["data"] = data
        out.append(crumb)
    return out


def test_breadcrumbs_of_http_subprocess_redis_and_sql_match_sentry_sdk(redis_server, downstream):
    runs = {}
    downstream.reset()
    downstream.respond({"path": "/missing-thing", "status": 404, "body": "no"})
    for sdk in ("sentry_sdk", "releasetag"):
        _seen, recorder = _run(sdk, "crumbs", downstream.url, redis_server.url)
        try:
            runs[sdk] = _crumbs(_errors(recorder, 1)[0])
        finally:
            recorder.stop()
    ours, theirs = runs["releasetag"], runs["sentry_sdk"]
    for crumb in ours:  # our one addition: how long each call took
        data = crumb["data"]
        assert isinstance(data.pop("duration_ms"), float), crumb
        data.pop("returncode", None)  # subprocess: known once it was waited for
    assert [c["category"] for c in ours] == [c["category"] for c in theirs]
    assert ours == theirs
    http = [c for c in ours if c["category"] == "httplib"]
    assert http[0]["data"]["http.query"] == "page=2" and http[0]["data"]["http.fragment"] == "top"
    assert http[1]["level"] == "warning" and http[1]["data"]["http.response.status_code"] == 404
    redis = [c["message"] for c in ours if c["category"] == "redis"]
    assert redis[:2] == ["SET 'user:7' [Filtered]", "GET 'user:7'"]
    assert "secret-value" not in json.dumps(ours)
