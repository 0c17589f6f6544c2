"""Log batches take the events' delivery path: an outage loses nothing, a rate-limited
``log_item`` category waits while errors go on, and what is dropped reaches the server in a
client report as ``log_item`` and ``log_byte``."""

from __future__ import annotations

import pytest

import releasetag
from releasetag.transport.retry import RetryPolicy

FAST = RetryPolicy(backoff_base=0.05, backoff_max=0.3, jitter=0.0)


def _log_items(recorder):
    out = []
    for envelope in recorder.envelopes():
        out += [item for item in envelope.items if item.type == "log"]
    return out


def _bodies(recorder):
    return [log["body"] for item in _log_items(recorder) for log in item.json()["items"]]


@pytest.mark.slow
def test_server_down_then_up_loses_no_log(recorder):
    port = recorder.port
    recorder.stop()
    releasetag.init(dsn=f"http://k@127.0.0.1:{port}/1", enable_logs=True, retry_policy=FAST)
    try:
        for i in range(1000):
            releasetag.logger.info("n {i}", i=i)
        releasetag.get_client().flush_telemetry()
        recorder.restart()
        assert releasetag.flush(20)
        assert sorted(_bodies(recorder)) == sorted(f"n {i}" for i in range(1000))
        assert all(item.headers["item_count"] <= 100 for item in _log_items(recorder))
    finally:
        releasetag.close()


@pytest.mark.slow
def test_a_rate_limited_log_category_waits_while_errors_go_on(recorder):
    recorder.respond(
        {"status": 429, "headers": {"X-Sentry-Rate-Limits": "1:log_item:key"}, "times": 1}
    )
    releasetag.init(dsn=recorder.dsn(), enable_logs=True, retry_policy=FAST)
    try:
        releasetag.logger.info("first")
        releasetag.get_client().flush_telemetry()
        recorder.wait_for(lambda r: r.requests("/envelope/"))
        releasetag.capture_message("an error meanwhile")
        releasetag.logger.info("second")
        assert releasetag.flush(10)
        # "first" was refused (429), then sent again once the limit ended; the error did not
        # wait for it
        assert sorted(_bodies(recorder)) == ["first", "first", "second"]
        kinds = [item.type for env in recorder.envelopes() for item in env.items]
        kinds = [k for k in kinds if k != "client_report"]
        assert kinds.index("event") < len(kinds) - 1 - kinds[::-1].index("log")
        assert [e["logentry"]["message"] for e in recorder.events()] == ["an error meanwhile"]
    finally:
        releasetag.close()


@pytest.mark.slow
def test_dropped_logs_reach_the_server_as_log_item_and_log_byte(recorder):
    releasetag.init(dsn=recorder.dsn(), enable_logs=True, before_send_log=lambda log, hint: None)
    try:
        releasetag.logger.info("dropped one")
        releasetag.logger.info("dropped two")
        releasetag.capture_message("carries the report")
        assert releasetag.flush(10)
    finally:
        releasetag.close()
    counts = {}
    for envelope in recorder.envelopes():
        for item in envelope.items:
            if item.type == "client_report":
                for entry in item.json()["discarded_events"]:
                    counts[(entry["reason"], entry["category"])] = entry["quantity"]
    assert counts[("before_send", "log_item")] == 2
    assert counts[("before_send", "log_byte")] > 200


@pytest.mark.slow
def test_logs_waiting_at_exit_and_in_a_forked_child_are_sent(recorder, tmp_path):
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(root, "src"), root]))
    with open(tmp_path / "out.txt", "wb") as out:
        proc = subprocess.run(
            [sys.executable, os.path.join(here, "exit_child.py"), recorder.dsn()],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
    assert proc.returncode == 0, (tmp_path / "out.txt").read_text()
    # each log once: the child does not send what the parent had waiting
    assert sorted(_bodies(recorder)) == ["child 1", "parent after fork", "parent before fork"]
