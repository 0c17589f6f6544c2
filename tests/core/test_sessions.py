"""Sessions from the SDK, as a user's process sends them: application mode (a script is one
session), request mode's counts, and every way of turning them off. Each script runs in a
process of its own against the recording server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from typing import Any, Dict, List, Tuple

import pytest

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware
from releasetag.protocol.errors import ConfigurationError
from tests.support.recorder import ROOT, Recorder

HEADER = """
import os, sys, time, releasetag
DSN = os.environ["DSN"]
"""


def _env(dsn: str, **extra: str) -> Dict[str, str]:
    env = dict(os.environ, DSN=dsn, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("RELEASETAG_SESSION_MODE", None)
    env.update(extra)
    return env


def _run(code: str, dsn: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HEADER + textwrap.dedent(code)],
        cwd=ROOT,
        env=_env(dsn, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _items(recorder: Recorder) -> List[Tuple[int, str, Any]]:
    """(envelope number, item type, payload) of every item received, in arrival order."""
    out = []
    for n, envelope in enumerate(recorder.envelopes()):
        for item in envelope.items:
            if item.type != "client_report":
                out.append((n, item.type, item.json()))
    return out


def _sessions(recorder: Recorder) -> List[Dict[str, Any]]:
    return [payload for _n, kind, payload in _items(recorder) if kind == "session"]


def _check_update(update: Dict[str, Any], release: str = "cli@1.0") -> None:
    uuid.UUID(update["sid"])
    assert update["attrs"]["release"] == release
    assert update["started"] <= update["timestamp"]
    assert update["duration"] >= 0
    assert isinstance(update["seq"], int)


@pytest.mark.timeout(60)
def test_a_script_in_application_mode_is_one_session_ending_exited(recorder):
    done = _run(
        """
        releasetag.init(DSN, release="cli@1.0", environment="batch", session_mode="application")
        time.sleep(0.05)
        """,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    (update,) = _sessions(recorder)
    _check_update(update)
    assert update["init"] is True and update["status"] == "exited" and update["errors"] == 0
    assert update["attrs"] == {"release": "cli@1.0", "environment": "batch"}
    assert update["duration"] >= 0.05
    assert "did" not in update


@pytest.mark.timeout(60)
def test_an_error_update_travels_with_its_event_and_the_user_is_the_did(recorder):
    done = _run(
        """
        releasetag.init(DSN, release="cli@1.0", session_mode="application")
        releasetag.set_user({"id": "user-7", "email": "u@example.com"})
        try:
            {}["missing"]
        except KeyError:
            releasetag.capture_exception()
        releasetag.capture_message("disk almost full", level="error")
        releasetag.capture_message("just saying")  # info: not an error
        """,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    items = _items(recorder)
    by_envelope: Dict[int, List[str]] = {}
    for n, kind, _payload in items:
        by_envelope.setdefault(n, []).append(kind)
    assert sorted(by_envelope.values()) == sorted(
        [["event", "session"], ["event", "session"], ["event"], ["session"]]
    )
    updates = _sessions(recorder)
    assert len({u["sid"] for u in updates}) == 1
    updates.sort(key=lambda u: u["seq"])
    assert [(u["init"], u["status"], u["errors"]) for u in updates] == [
        (True, "ok", 1),
        (False, "ok", 2),
        (False, "exited", 2),
    ]
    assert {u["did"] for u in updates} == {"user-7"}  # the id; the email only with PII on


@pytest.mark.timeout(60)
def test_an_unhandled_exception_crashes_the_session_in_the_crash_events_envelope(recorder):
    done = _run(
        """
        releasetag.init(DSN, release="cli@1.0", session_mode="application")
        raise RuntimeError("the job failed")
        """,
        recorder.dsn(),
    )
    assert done.returncode == 1 and "the job failed" in done.stderr
    items = _items(recorder)
    kinds = [(n, kind) for n, kind, _ in items]
    assert kinds == [(0, "event"), (0, "session")]  # no later "exited" update
    update = items[1][2]
    assert update["status"] == "crashed" and update["errors"] == 1 and update["init"] is True
    assert items[0][2]["exception"]["values"][-1]["mechanism"]["handled"] is False


@pytest.mark.timeout(60)
def test_sigterm_ends_the_session_abnormal_and_still_ends_the_process(recorder):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HEADER
            + textwrap.dedent(
                """
                releasetag.init(DSN, release="cli@1.0", session_mode="application")
                print("ready", flush=True)
                time.sleep(30)
                """
            ),
        ],
        cwd=ROOT,
        env=_env(recorder.dsn()),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.stdout.close()
    (update,) = _sessions(recorder)
    assert update["status"] == "abnormal"


@pytest.mark.timeout(60)
def test_os_exit_ends_the_session_abnormal(recorder):
    done = _run(
        """
        releasetag.init(DSN, release="cli@1.0", session_mode="application")
        os._exit(3)
        """,
        recorder.dsn(),
    )
    assert done.returncode == 3
    (update,) = _sessions(recorder)
    assert update["status"] == "abnormal"


@pytest.mark.timeout(60)
def test_the_environment_variable_selects_application_mode(recorder):
    done = _run(
        'releasetag.init(DSN, release="cli@1.0")',
        recorder.dsn(),
        RELEASETAG_SESSION_MODE="application",
    )
    assert done.returncode == 0, done.stderr
    assert [u["status"] for u in _sessions(recorder)] == ["exited"]


@pytest.mark.timeout(60)
def test_manual_sessions_each_have_their_own_sid(recorder):
    done = _run(
        """
        releasetag.init(DSN, release="cli@1.0", session_mode="application")
        releasetag.end_session()
        for n in range(2):
            releasetag.start_session()
            releasetag.capture_message(f"batch {n} failed", level="fatal")
            releasetag.end_session()
        releasetag.end_session()  # nothing open: a no-op
        """,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    finals = [u for u in _sessions(recorder) if u["status"] != "ok"]
    assert [(u["status"], u["errors"]) for u in finals] == [
        ("exited", 0),
        ("exited", 1),
        ("exited", 1),
    ]
    assert len({u["sid"] for u in finals}) == 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "options",
    [
        'session_mode="application"',  # with no release
        'release="cli@1.0", session_mode="off"',
        'release="cli@1.0", session_mode="application", auto_session_tracking=False',
    ],
)
def test_no_release_or_tracking_off_sends_no_session_and_raises_nothing(recorder, options):
    done = _run(
        f"""
        os.environ.pop("SENTRY_RELEASE", None)
        os.chdir("/")  # no git checkout to detect a release from
        releasetag.init(DSN, {options})
        releasetag.start_session()
        releasetag.capture_message("still sent", level="error")
        releasetag.end_session()
        """,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    assert [kind for _n, kind, _p in _items(recorder)] == ["event"]


def test_an_unknown_session_mode_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="session_mode must be request, application"):
        releasetag.init("http://k@127.0.0.1:9/1", release="a@1", session_mode="sometimes")


def _call(app, path: str) -> None:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.url_scheme": "http"}
    try:
        response = app(environ, lambda *a: None)
        list(response)
        getattr(response, "close", lambda: None)()
    except RuntimeError:
        pass


def _wsgi_app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        raise RuntimeError("boom")
    if environ["PATH_INFO"] == "/warn":
        releasetag.capture_message("slow", level="warning")  # not an error
    if environ["PATH_INFO"] == "/error-log":
        releasetag.capture_message("payment failed", level="error")
    start_response("200 OK", [])
    return iter([b"ok"])


@pytest.mark.timeout(60)
def test_request_counts_are_sent_every_flush_interval_without_a_flush(recorder):
    releasetag.init(recorder.dsn(), release="web@2", session_flush_interval=0.2)
    try:
        app = ReleasetagMiddleware(_wsgi_app)
        for path in ["/", "/warn", "/error-log", "/crash", "/"]:
            _call(app, path)

        def sessions(r: Recorder) -> List[Dict[str, Any]]:
            return [p for _n, kind, p in _items(r) if kind == "sessions"]

        (item,) = recorder.wait_for(sessions, timeout=10)
        assert item["attrs"] == {"release": "web@2", "environment": "production"}
        totals: Dict[str, int] = {}
        for bucket in item["aggregates"]:
            for key in ("exited", "errored", "crashed", "abnormal"):
                totals[key] = totals.get(key, 0) + bucket.get(key, 0)
        assert totals == {"exited": 3, "errored": 1, "crashed": 1, "abnormal": 0}
        _call(app, "/")
        # the next interval sends only what is new: one more item, with the one request
        second = recorder.wait_for(lambda r: sessions(r)[1:], timeout=10)
        assert [b.get("exited", 0) for b in second[0]["aggregates"]] == [1]
        assert sum(b.get("errored", 0) + b.get("crashed", 0) for b in second[0]["aggregates"]) == 0
    finally:
        releasetag.close(timeout=2)


@pytest.mark.timeout(60)
def test_session_counts_wait_out_a_rate_limit_and_are_not_lost(recorder):
    recorder.respond({"status": 429, "headers": {"X-Sentry-Rate-Limits": "1:session"}, "times": 1})
    releasetag.init(recorder.dsn(), release="web@2", session_flush_interval=3600)
    try:
        app = ReleasetagMiddleware(_wsgi_app)
        _call(app, "/")
        releasetag.flush(timeout=5)
        _call(app, "/")
        assert releasetag.flush(timeout=10)
    finally:
        releasetag.close(timeout=5)
    accepted = [r for r in recorder.requests("/envelope/") if r.get("status", 200) == 200]
    counted = 0
    for request in accepted:
        for item in request.envelope().items:
            if item.type == "sessions":
                counted += sum(b.get("exited", 0) for b in item.json()["aggregates"])
    assert counted == 2


@pytest.mark.timeout(90)
def test_session_counts_wait_in_the_spool_while_the_server_is_down(tmp_path):
    spool = str(tmp_path / "spool")
    recorder = Recorder()
    port = recorder.port
    recorder.stop()  # the server is down while the app runs
    done = _run(
        f"""
        from releasetag.integrations.wsgi import ReleasetagMiddleware
        releasetag.init(DSN, release="web@3", spool_dir={spool!r}, shutdown_timeout=1)

        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]

        for _ in range(3):
            ReleasetagMiddleware(app)({{"PATH_INFO": "/", "REQUEST_METHOD": "GET"}},
                                      lambda *a: None)
        """,
        f"http://publickey@127.0.0.1:{port}/42",
    )
    assert done.returncode == 0, done.stderr
    recorder = Recorder(port)
    try:
        done = _run(
            f"""
            releasetag.init(DSN, release="web@3", spool_dir={spool!r})
            assert releasetag.flush(10)
            """,
            recorder.dsn(),
        )
        assert done.returncode == 0, done.stderr
        counted = [
            bucket.get("exited", 0)
            for _n, kind, payload in _items(recorder)
            if kind == "sessions"
            for bucket in payload["aggregates"]
        ]
        assert sum(counted) == 3
    finally:
        recorder.stop()
