"""The SDK against a real recording server process: release tags, auth, gzip, rate limits,
client reports, unreachable servers, flush timeouts."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
import threading

import pytest

import releasetag
from releasetag.transport.ratelimit import parse_rate_limits


@pytest.fixture(autouse=True)
def _closed():
    yield
    releasetag.close(timeout=1)


def test_events_carry_release_environment_dist_server_name(recorder):
    releasetag.init(
        recorder.dsn(), release="myapp@1.4.2", environment="staging", dist="7", server_name="web-1"
    )
    releasetag.set_tag("region", "eu")
    try:
        1 / 0
    except ZeroDivisionError:
        event_id = releasetag.capture_exception()
    releasetag.capture_message("hello")
    assert releasetag.flush(5)
    events = recorder.events()
    assert len(events) == 2
    for event in events:
        assert (event["release"], event["environment"], event["dist"], event["server_name"]) == (
            "myapp@1.4.2",
            "staging",
            "7",
            "web-1",
        )
        assert event["tags"]["region"] == "eu"
    # two requests may be in flight at once (transport_threads): arrival order is free
    assert {e["event_id"] for e in events} == {event_id, releasetag.last_event_id()}
    assert event_id != releasetag.last_event_id()
    req = next(
        r
        for r in recorder.requests("/api/42/envelope/")
        if r.envelope().headers["event_id"] == event_id
    )
    assert "sentry_key=publickey" in req["headers"]["x-sentry-auth"]
    assert req["headers"]["content-type"] == "application/x-sentry-envelope"


def test_large_envelopes_are_gzipped(recorder):
    releasetag.init(recorder.dsn(), release="r@1")
    releasetag.set_extra("blob", "x" * 5000)
    releasetag.capture_message("big")
    releasetag.flush(5)
    req = recorder.requests("/envelope/")[0]
    assert req["headers"].get("content-encoding") == "gzip"
    assert req.envelope().event["extra"]["blob"].startswith("x")


def test_capture_does_not_wait_for_the_server(recorder):
    """Captures return while the server holds the first request unanswered (how long a
    capture takes is measured in bench/, not asserted here)."""
    recorder.respond({"path": "/envelope/", "hang": True, "times": 1})
    releasetag.init(recorder.dsn(), release="r@1", http_timeout=2)
    releasetag.capture_message("first")
    recorder.wait_for(lambda r: r.requests("/envelope/"))  # the sender is stuck on it now
    for _ in range(4):
        releasetag.capture_message("m")
    stats = releasetag.delivery_stats()
    assert stats["sent"] == 0 and stats["queued"] >= 4  # returned without an answer
    assert releasetag.flush(20)
    accepted = [r.envelope().event for r in recorder.requests("/envelope/") if r["status"] == 200]
    assert sorted(e["logentry"]["message"] for e in accepted) == ["first"] + ["m"] * 4


@pytest.mark.timeout(60)  # a flush that waited for the answer would take 10 minutes
def test_flush_honours_timeout_on_hung_server(recorder):
    recorder.respond({"path": "/envelope/", "hang": True})
    releasetag.init(recorder.dsn(), release="r@1", http_timeout=600)
    releasetag.capture_message("m")
    assert releasetag.flush(0.5) is False
    assert releasetag.delivery_stats()["sent"] == 0


def test_rate_limit_header_stops_category_and_is_reported(recorder):
    recorder.respond(
        {
            "path": "/envelope/",
            "status": 429,
            "times": 1,
            "headers": {"X-Sentry-Rate-Limits": "60:error:key"},
        }
    )
    releasetag.init(recorder.dsn(), release="r@1")
    releasetag.capture_message("first")
    releasetag.flush(5)
    for _ in range(3):
        releasetag.capture_message("limited")
    releasetag.flush(5)
    assert len(recorder.requests("/envelope/")) == 1  # nothing sent inside the window
    stats = releasetag.delivery_stats()
    # kept for after the window (delivery: nothing lost to a rate limit that ends) ...
    assert stats["backlog"] == 4 and stats["dropped_total"] == 0
    # ... unless the process ends first: then they are counted as rate-limited drops
    transport = releasetag.get_client().transport
    releasetag.close(timeout=0.2)
    assert transport.delivery_stats()["dropped"]["ratelimit_backoff"] == 4


def test_parse_rate_limits():
    assert parse_rate_limits("60:error;transaction:key, 2700::organization:quota") == {
        "error": 60.0,
        "transaction": 60.0,
        "__all__": 2700.0,
    }


def test_client_reports_sent_with_next_envelope(recorder):
    releasetag.init(
        recorder.dsn(),
        release="r@1",
        before_send=lambda e, h: None if e.get("logentry", {}).get("message") == "drop me" else e,
    )
    releasetag.capture_message("drop me")
    releasetag.capture_message("keep me")
    releasetag.flush(5)
    items = [i for env in recorder.envelopes() for i in env.items if i.type == "client_report"]
    assert items, "expected a client report"
    discarded = items[0].json()["discarded_events"]
    assert {"reason": "before_send", "category": "error", "quantity": 1} in discarded


def test_unreachable_server_counts_drop_and_prints_nothing(tmp_path):
    script = textwrap.dedent("""
        import releasetag
        releasetag.init("http://k@127.0.0.1:9/1", release="r@1", http_timeout=1)
        releasetag.capture_message("lost")
        releasetag.flush(3)
        stats = releasetag.delivery_stats()
        print(stats["backlog"], stats["retries"] > 0)
        transport = releasetag.get_client().transport
        releasetag.close(0.5)
        print(transport.delivery_stats()["dropped"])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    held, dropped = out.stdout.splitlines()
    assert held == "1 True"  # kept in memory and retried while the process runs
    assert "network_error" in dropped  # counted when the process gives up at close
    assert out.stderr == ""


def test_no_dsn_is_a_cheap_no_op():
    client = releasetag.init(None)
    assert client.active is False
    assert releasetag.capture_message("nothing") is None
    try:
        1 / 0
    except ZeroDivisionError:
        assert releasetag.capture_exception() is None
    releasetag.add_breadcrumb(message="x")
    assert releasetag.flush(1) is True


def test_dsn_and_release_from_environment(recorder, monkeypatch):
    monkeypatch.setenv("SENTRY_DSN", recorder.dsn())
    monkeypatch.setenv("RELEASETAG_RELEASE", "env@9")
    monkeypatch.setenv("SENTRY_RELEASE", "ignored@1")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "qa")
    releasetag.init()
    releasetag.capture_message("from env")
    releasetag.flush(5)
    event = recorder.events()[0]
    assert (event["release"], event["environment"]) == ("env@9", "qa")


def test_invalid_configuration_raises_value_error():
    with pytest.raises(ValueError, match="release"):
        releasetag.init("http://k@127.0.0.1:1/1", release="bad/name")
    with pytest.raises(ValueError, match="project id"):
        releasetag.init("http://k@127.0.0.1:1/")


def test_sampling_before_send_ignore_errors_and_dedupe(recorder):
    releasetag.init(recorder.dsn(), release="r@1", ignore_errors=[KeyError])
    err = ValueError("once")
    assert releasetag.capture_exception(err) is not None
    assert releasetag.capture_exception(err) is None  # same object: deduplicated
    assert releasetag.capture_exception(KeyError("ignored")) is None
    releasetag.flush(5)
    assert len(recorder.events()) == 1
    releasetag.init(recorder.dsn(), release="r@1", sample_rate=0.0)
    assert releasetag.capture_message("sampled out") is None
    assert releasetag.delivery_stats()["dropped"]["sample_rate"] == 1


def test_scopes_temporary_and_per_thread(recorder):
    releasetag.init(recorder.dsn(), release="r@1")
    releasetag.set_tag("outer", "1")
    with releasetag.new_scope() as scope:
        scope.set_tag("inner", "1")
        releasetag.capture_message("inside")
    releasetag.capture_message("outside")

    def worker():
        releasetag.set_tag("thread", "yes")
        releasetag.capture_message("in thread")

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    releasetag.capture_message("after thread")
    releasetag.flush(5)
    by_msg = {e["logentry"]["message"]: e.get("tags", {}) for e in recorder.events()}
    assert by_msg["inside"] == {"outer": "1", "inner": "1"}
    assert by_msg["outside"] == {"outer": "1"}
    assert by_msg["in thread"]["thread"] == "yes"
    assert "thread" not in by_msg["after thread"]


def test_breadcrumbs_ring_buffer_and_before_breadcrumb(recorder):
    releasetag.init(
        recorder.dsn(),
        release="r@1",
        max_breadcrumbs=3,
        before_breadcrumb=lambda c, h: None if c.get("category") == "noise" else c,
    )
    for i in range(5):
        releasetag.add_breadcrumb(message=f"b{i}", category="app")
    releasetag.add_breadcrumb(message="dropped", category="noise")
    releasetag.add_breadcrumb(message="token=abc", category="app", data={"api_key": "s3cr3t"})
    releasetag.capture_message("with crumbs")
    releasetag.flush(5)
    crumbs = recorder.events()[0]["breadcrumbs"]["values"]
    assert [c["message"] for c in crumbs] == ["b3", "b4", "token=abc"]
    assert crumbs[-1]["data"]["api_key"] == "[Filtered]"


def test_gzip_body_decodes_to_same_envelope(recorder):
    # sanity check of the recording server itself: gzip is undone before recording
    import urllib.request

    body = b'{"event_id":"' + b"e" * 32 + b'"}\n'
    urllib.request.urlopen(
        urllib.request.Request(
            recorder.url + "/api/1/envelope/",
            data=gzip.compress(body),
            headers={"Content-Encoding": "gzip"},
        )
    )
    assert recorder.requests()[0].body == body


def test_retry_after_window_holds_events_then_sends_them_in_order(recorder):
    recorder.respond(
        {"path": "/envelope/", "status": 429, "times": 1, "headers": {"Retry-After": "1"}}
    )
    releasetag.init(recorder.dsn(), release="r@1")
    releasetag.capture_message("refused")
    assert releasetag.flush(0.3) is False  # held for the window
    releasetag.capture_message("inside window")
    assert releasetag.flush(0.2) is False
    assert len(recorder.requests("/envelope/")) == 1  # nothing was posted inside the window
    assert releasetag.flush(10) is True  # the window ends: both go out
    releasetag.capture_message("after window")
    assert releasetag.flush(5) is True
    accepted = [
        r.envelope().event["logentry"]["message"]
        for r in recorder.requests("/envelope/")
        if r.get("status") == 200
    ]
    assert accepted == ["refused", "inside window", "after window"]


def test_frozen_time_does_not_stop_retries_or_windows(recorder):
    """Apps freeze time in their tests (freezegun): delivery runs on the OS clock, so a
    rate-limit window and the retry timer still end."""
    from freezegun import freeze_time

    with freeze_time("2026-06-01 12:00:00"):
        recorder.respond(
            {"path": "/envelope/", "status": 429, "times": 1, "headers": {"Retry-After": "1"}},
            {"path": "/envelope/", "status": 503, "times": 1},
        )
        releasetag.init(recorder.dsn(), release="r@1")
        releasetag.capture_message("held")
        assert releasetag.flush(15) is True
    statuses = [r.get("status") for r in recorder.requests("/envelope/")]
    assert statuses == [429, 503, 200]
    assert recorder.events()[-1]["logentry"]["message"] == "held"


def test_pending_events_flushed_at_interpreter_exit(recorder):
    script = textwrap.dedent(f"""
        import releasetag
        releasetag.init({recorder.dsn()!r}, release="exit@1")
        for i in range(20):
            releasetag.capture_message(f"m{{i}}")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == ""
    assert sorted(e["logentry"]["message"] for e in recorder.events()) == sorted(
        f"m{i}" for i in range(20)
    )
