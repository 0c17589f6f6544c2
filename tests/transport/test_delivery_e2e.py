"""End to end: a real app process, a real recording server on 127.0.0.1, outages and errors."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.transport.apps import discarded, event_messages, run_app, start_app, stop, wait_line

INIT = (
    "releasetag.init({dsn!r}, release='app@1', spool_dir={spool!r}, retry_policy=FAST,"
    " default_integrations=False, shutdown_timeout=1.0{more})"
)


def init_line(recorder, spool, more=""):
    return INIT.format(dsn=recorder.dsn(), spool=str(spool) if spool else None, more=more)


def expect_each_once(recorder, expected, timeout=20.0):
    recorder.wait_for(lambda r: len(set(event_messages(r))) >= len(expected), timeout=timeout)
    got = event_messages(recorder)
    assert sorted(got) == sorted(expected), "events missing or sent twice"


@pytest.mark.parametrize("use_spool", [True, False], ids=["spool", "memory"])
def test_server_down_while_capturing_500_then_up_delivers_all_once(recorder, tmp_path, use_spool):
    recorder.stop()
    proc = start_app(f"""
        {init_line(recorder, tmp_path / "spool" if use_spool else None)}
        for i in range(500):
            releasetag.capture_message(f"ev {{i}}")
        while releasetag.delivery_stats()["queued"]:
            time.sleep(0.02)
        print("CAPTURED", json.dumps(releasetag.delivery_stats()), flush=True)
        sys.stdin.readline()
        print("FLUSHED", releasetag.flush(30), json.dumps(releasetag.delivery_stats()), flush=True)
    """)
    try:
        stats = json.loads(wait_line(proc, "CAPTURED").split(" ", 1)[1])
        assert stats["sent"] == 0 and stats["backlog"] == 500
        recorder.restart()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        line = wait_line(proc, "FLUSHED")
        assert line.split()[1] == "True"
        expect_each_once(recorder, [f"ev {i}" for i in range(500)])
        assert json.loads(line.split(" ", 2)[2])["dropped_total"] == 0
    finally:
        stop(proc)


def test_outage_across_a_process_restart(recorder, tmp_path):
    recorder.stop()
    spool = tmp_path / "spool"
    start = time.monotonic()
    first = run_app(f"""
        {init_line(recorder, spool)}
        for i in range(500):
            releasetag.capture_message(f"ev {{i}}")
    """)
    assert first.returncode == 0, first.stderr
    assert time.monotonic() - start < 15  # exit waited about shutdown_timeout, not forever
    assert len([n for n in spool.iterdir() if n.name.endswith(".env")]) == 500
    recorder.restart()
    second = run_app(f"""
        {init_line(recorder, spool)}
        print(releasetag.flush(30), json.dumps(releasetag.delivery_stats()))
    """)
    assert second.stdout.startswith("True"), second.stderr
    expect_each_once(recorder, [f"ev {i}" for i in range(500)])
    assert list(spool.iterdir()) == []


def test_sigkill_with_envelopes_in_the_spool_next_process_delivers(recorder, tmp_path):
    recorder.stop()
    spool = tmp_path / "spool"
    proc = start_app(f"""
        {init_line(recorder, spool)}
        for i in range(200):
            releasetag.capture_message(f"ev {{i}}")
        while releasetag.delivery_stats()["backlog"] < 200:
            time.sleep(0.02)
        print("SPOOLED", flush=True)
        time.sleep(60)
    """)
    try:
        wait_line(proc, "SPOOLED")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        stop(proc)
    recorder.restart()
    second = run_app(f"""
        {init_line(recorder, spool)}
        print(releasetag.flush(30))
    """)
    assert second.stdout.startswith("True"), second.stderr
    expect_each_once(recorder, [f"ev {i}" for i in range(200)])


@pytest.mark.parametrize("use_spool", [True, False], ids=["spool", "memory"])
@pytest.mark.parametrize(
    "headers",
    [{"Retry-After": "2"}, {"X-Sentry-Rate-Limits": "2:error:key"}],
    ids=["retry-after", "x-sentry-rate-limits"],
)
def test_429_no_request_inside_the_window_everything_after(recorder, tmp_path, use_spool, headers):
    recorder.respond({"path": "/envelope/", "status": 429, "headers": headers, "times": 1})
    out = run_app(f"""
        {init_line(recorder, tmp_path / "spool" if use_spool else None)}
        releasetag.capture_message("ev 0")
        time.sleep(0.3)
        for i in range(1, 20):
            releasetag.capture_message(f"ev {{i}}")
        print(releasetag.flush(15), json.dumps(releasetag.delivery_stats()))
    """)
    assert out.stdout.startswith("True"), out.stderr
    times = [r["time"] for r in recorder.requests("/envelope/")]
    assert times[1] - times[0] >= 1.95, "a request was sent inside the rate-limit window"
    expect_each_once(recorder, [f"ev {i}" for i in range(20)])


def test_invalid_key_is_dropped_once_with_one_clear_line_not_retried(recorder):
    recorder.respond({"path": "/envelope/", "status": 401, "body": {"detail": "invalid api key"}})
    out = run_app(f"""
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        releasetag.init({recorder.dsn()!r}, retry_policy=FAST, default_integrations=False)
        for i in range(3):
            releasetag.capture_message(f"ev {{i}}")
        print(releasetag.flush(10), json.dumps(releasetag.delivery_stats()))
    """)
    assert out.stdout.startswith("True"), out.stderr
    stats = json.loads(out.stdout.split(" ", 1)[1])
    assert stats["dropped"] == {"send_error": 3} and stats["retries"] == 0
    envelope_posts = [
        r
        for r in recorder.requests("/envelope/")
        if any(i.type == "event" for i in r.envelope().items)
    ]
    assert len(envelope_posts) == 3
    lines = [line for line in out.stderr.splitlines() if "401" in line]
    assert len(lines) == 1 and "check the DSN" in lines[0], out.stderr


def test_client_reports_carry_send_error_and_queue_overflow(recorder):
    recorder.respond(
        {"path": "/envelope/", "status": 413, "times": 1},
        {"path": "/envelope/", "delay": 0.05, "times": 10},
    )
    out = run_app(f"""
        releasetag.init({recorder.dsn()!r}, retry_policy=FAST, default_integrations=False,
                        transport_queue_size=5)
        releasetag.capture_message("too large")
        releasetag.flush(5)
        for i in range(40):
            releasetag.capture_message(f"ev {{i}}")
        print(releasetag.flush(15), json.dumps(releasetag.delivery_stats()))
    """)
    assert out.stdout.startswith("True"), out.stderr
    stats = json.loads(out.stdout.split(" ", 1)[1])
    overflow = stats["dropped"]["queue_overflow"]
    assert overflow > 0 and stats["dropped"]["send_error"] == 1
    assert stats["sent"] + overflow == 40
    reported = discarded(recorder)
    assert reported == {("send_error", "error"): 1, ("queue_overflow", "error"): overflow}


def test_hung_server_never_holds_flush_or_exit_and_nothing_is_lost(recorder, tmp_path):
    recorder.respond({"path": "/envelope/", "hang": True})
    spool = tmp_path / "spool"
    start = time.monotonic()
    out = run_app(
        f"""
        releasetag.init({recorder.dsn()!r}, spool_dir={str(spool)!r}, http_timeout=60,
                        shutdown_timeout=1.0, default_integrations=True)
        for i in range(5):
            releasetag.capture_message(f"ev {{i}}")
        t = time.monotonic()
        ok = releasetag.flush(0.5)
        print(ok, round(time.monotonic() - t, 2))
    """,
        timeout=30,
    )
    elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    ok, took = out.stdout.split()
    assert ok == "False" and float(took) < 1.0
    assert elapsed < 8, f"exit took {elapsed:.1f}s with a hung server"
    recorder.restart()  # a server that answers
    second = run_app(f"""
        {init_line(recorder, spool)}
        print(releasetag.flush(30))
    """)
    assert second.stdout.startswith("True"), second.stderr
    expect_each_once(recorder, [f"ev {i}" for i in range(5)])


def test_unusable_spool_dir_warns_once_and_still_delivers(recorder, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = run_app(f"""
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        releasetag.init({recorder.dsn()!r}, spool_dir={str(blocker / "spool")!r},
                        default_integrations=False)
        releasetag.capture_message("still sent")
        print(releasetag.flush(10))
    """)
    assert out.stdout.strip() == "True"
    warnings = [line for line in out.stderr.splitlines() if "spool_dir" in line]
    assert len(warnings) == 1 and "kept in memory" in warnings[0], out.stderr
    expect_each_once(recorder, ["still sent"])


def test_burst_beyond_the_memory_queue_spills_to_the_spool_and_all_arrive(recorder, tmp_path):
    out = run_app(
        f"""
        {init_line(recorder, tmp_path / "spool", more=", transport_queue_size=20")}
        for i in range(1500):
            releasetag.capture_message(f"ev {{i}}")
        print(releasetag.flush(60), json.dumps(releasetag.delivery_stats()))
    """,
        timeout=120,
    )
    assert out.stdout.startswith("True"), out.stderr
    stats = json.loads(out.stdout.split(" ", 1)[1])
    assert stats["spooled"] > 1000 and stats["dropped_total"] == 0
    expect_each_once(recorder, [f"ev {i}" for i in range(1500)])
    assert [n for n in (tmp_path / "spool").iterdir()] == []


def test_http_proxy_option_sends_through_the_proxy(recorder):
    # The recording server plays the proxy: it sees the absolute URL of the real endpoint.
    out = run_app(f"""
        releasetag.init("http://publickey@ingest.invalid:9000/42", default_integrations=False,
                        http_proxy={recorder.url!r})
        releasetag.capture_message("via proxy")
        print(releasetag.flush(10))
    """)
    assert out.stdout.strip() == "True", out.stderr
    expect_each_once(recorder, ["via proxy"])
    assert recorder.requests("/envelope/")[0]["path"] == "/api/42/envelope/"
