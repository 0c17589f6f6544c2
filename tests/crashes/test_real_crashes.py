"""Real segfaults (a null pointer read through ctypes) in a plain script, a gunicorn worker and
a Celery prefork child: the next process (or the restarted worker) reports each crash once."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest

from tests.support.recorder import ROOT
from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow

CRASH = """
import ctypes, os, time, releasetag
releasetag.init(os.environ["DSN"], release=os.environ["REL"], session_mode="application")
def read_null():
    ctypes.string_at(0)
if os.environ.get("GO"):  # init() is done, its look for others' records too
    open(f"{os.environ['GO']}.ready-{os.getpid()}", "w").close()
while os.environ.get("GO") and not os.path.exists(os.environ["GO"]):
    time.sleep(0.01)  # all crash at once: none is there to report another's crash first
read_null()
"""
START = """
import os, releasetag
releasetag.init(os.environ["DSN"], release="tool@9")
releasetag.flush(10)
"""


@pytest.fixture(autouse=True)
def _own_state_folder(_clean_env, monkeypatch, tmp_path):
    """Each test's crash records in a folder of its own: a full run's other processes (servers
    stopped with a signal) leave records in the session's folder, which these tests count."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _python(code, dsn, tmp_path, **env):
    full = dict(
        os.environ, DSN=dsn, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    full.update(env)
    stamp = time.monotonic_ns()
    script = tmp_path / f"script_{stamp}.py"  # a file: frames get their source lines
    script.write_text(textwrap.dedent(code))
    log = open(tmp_path / f"out-{stamp}.log", "w+")  # noqa: SIM115 - read below
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, env=full, stdout=log, stderr=subprocess.STDOUT
    )
    return proc, log


def _finish(proc, log):
    code = proc.wait(60)
    log.seek(0)
    return code, log.read()


def _records(root):
    return sorted(p.name for p in root.rglob("crash-*.rec"))


def _fatal(recorder):
    return [e for e in recorder.events() if e.get("level") == "fatal"]


def test_crashed_scripts_are_reported_once_by_the_next_processes_started_at_once(
    recorder, tmp_path
):
    state = pathlib.Path(os.environ["XDG_STATE_HOME"])
    go = tmp_path / "go"
    crashes = [
        _python(CRASH, recorder.dsn(), tmp_path, REL=f"tool@{i}", GO=str(go)) for i in (1, 2, 3)
    ]
    # every init() done before any crash: a slow one would report a crash of the others
    ready = lambda r: len(list(tmp_path.glob("go.ready-*"))) >= 3 or None  # noqa: E731
    recorder.wait_for(ready, timeout=20)
    assert len(_records(state)) == 3
    go.touch()
    assert [_finish(*c)[0] for c in crashes] == [-11, -11, -11]
    assert len(_records(state)) == 3
    starts = [_python(START, recorder.dsn(), tmp_path) for _ in range(4)]  # all at once
    assert [_finish(*s)[0] for s in starts] == [0, 0, 0, 0]
    assert _records(state) == [] and list(state.rglob("*.claim-*")) == []
    events = _fatal(recorder)
    assert sorted(e["release"] for e in events) == ["tool@1", "tool@2", "tool@3"]
    for event in events:
        value = event["exception"]["values"][0]
        assert value["type"] == "SIGSEGV" and value["mechanism"]["handled"] is False
        assert value["stacktrace"]["frames"][-2]["function"] == "read_null"
        assert value["stacktrace"]["frames"][-2]["in_app"] is True
        assert value["stacktrace"]["frames"][-2]["context_line"].strip() == "ctypes.string_at(0)"
    crashed = [
        item.json()
        for r in recorder.envelopes()
        for item in r.items
        if item.type == "session" and item.json().get("status") == "crashed"
    ]
    assert sorted(s["attrs"]["release"] for s in crashed) == ["tool@1", "tool@2", "tool@3"]


def test_switched_off_or_an_apps_own_faulthandler_leaves_no_record(recorder, tmp_path):
    state = pathlib.Path(os.environ["XDG_STATE_HOME"])
    before = _records(state)
    off = _python(CRASH, recorder.dsn(), tmp_path, REL="tool@1", RELEASETAG_NATIVE_CRASHES="0")
    own = _python(
        "import faulthandler; faulthandler.enable()\n" + CRASH, recorder.dsn(), tmp_path, REL="t@1"
    )
    assert _finish(*off)[0] == -11
    code, out = _finish(*own)
    assert code == -11 and "Fatal Python error: Segmentation fault" in out  # the app's output
    assert "in read_null" in out
    assert _records(state) == before


def test_a_segfaulted_gunicorn_worker_is_reported_by_its_replacement(recorder, tmp_path):
    env = {"APP_DSN": recorder.dsn(), "APP_SPOOL": str(tmp_path / "spool")}
    server = WebServer("gunicorn", "tests.crashes.apps.crash_wsgi:app", env, workers=1)
    try:
        assert server.request("/")[0] == 200
        crashed_at = time.monotonic()
        assert server.request("/crash")[0] is None  # the worker died mid-request
        (event,) = recorder.wait_for(_fatal, timeout=30)
        reported_in = time.monotonic() - crashed_at
        assert server.request("/")[0] == 200  # the replacement serves
    finally:
        server.stop()
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert [f["function"] for f in frames if f["in_app"]][-2:] == ["_app", "read_null"]
    assert event["release"] == "shop@1.0"
    assert "Worker (pid:" in "".join(server.log) and reported_in < 30
    assert list((tmp_path / "spool" / "crashes").glob("*.rec")) == []


def test_a_segfaulted_celery_prefork_child_is_reported_by_the_next_child(
    redis_server, recorder, tmp_path
):
    from celery import Celery

    from tests.integrations.celery_fixtures import CeleryWorker

    worker = CeleryWorker.__new__(CeleryWorker)
    _start_worker(worker, redis_server.url, recorder.dsn())
    producer = Celery("producer", broker=redis_server.url)
    producer.conf.broker_connection_retry_on_startup = True
    try:
        producer.send_task("tasks.segfault")
        (event,) = recorder.wait_for(_fatal, timeout=40)
    finally:
        producer.close()
        worker.stop()
    value = event["exception"]["values"][0]
    assert value["type"] == "SIGSEGV"
    frames = value["stacktrace"]["frames"]
    assert "segfault" in [f["function"] for f in frames if f["in_app"]], frames
    assert event["release"] == "billing@3.1.0" and event["environment"] == "staging"


def _start_worker(worker, broker, dsn):
    """CeleryWorker's set-up, with the app that has the segfaulting task."""
    import tempfile

    env = dict(
        os.environ, APP_DSN=dsn, APP_BROKER=broker, APP_RELEASE="billing@3.1.0",
        APP_ENVIRONMENT="staging", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )  # fmt: skip
    worker.logfile = tempfile.NamedTemporaryFile(prefix="rt-celery-", suffix=".log", delete=False)
    worker.proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.crashes.apps.crash_celery", "worker",
         "-P", "prefork", "-c", "1", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=worker.logfile, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and "ready." not in worker.log():
        if worker.proc.poll() is not None:
            break
        time.sleep(0.1)
    if "ready." not in worker.log():
        log = worker.log()
        worker.stop()
        raise RuntimeError("celery worker did not start:\n" + log)
