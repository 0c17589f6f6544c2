"""Workers killed under a parent that runs the SDK: gunicorn's master (--preload, or the
child_exit line in gunicorn.conf.py) and Celery's main process report each death once, with the
request or task in flight, and count it as a crashed session."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from releasetag.integrations.gunicorn import slot_dir
from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _own_state_folder(_clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


PROJECT = 2801  # this module's project: what other tests' processes send is not counted


def _envelopes(recorder):
    return [r.envelope() for r in recorder.requests(f"/api/{PROJECT}/envelope/")]


def _events(recorder):
    return [i.json() for e in _envelopes(recorder) for i in e.items if i.type == "event"]


def _lost(recorder):
    return [
        e
        for e in _events(recorder)
        if e.get("level") in ("error", "fatal") and (e.get("contexts") or {}).get("worker")
    ]


def _summary(recorder):
    """What arrived, shortly (for an assertion's message)."""
    out = []
    for envelope in _envelopes(recorder):
        for item in envelope.items:
            data = item.json()
            if item.type == "event":
                values = (data.get("exception") or {}).get("values") or [{}]
                text = data.get("logentry") or values[-1].get("value")
                out.append(f"event {data.get('level')} {data.get('logger')} {text}"[:300])
            else:
                out.append(f"{item.type} {data}"[:300])
    return "\n".join(out)


def _crashed_sessions(recorder):
    total = 0
    for envelope in _envelopes(recorder):
        for item in envelope.items:
            if item.type == "sessions":
                total += sum(a.get("crashed", 0) for a in item.json()["aggregates"])
    return total


def _gunicorn(tmp_path, recorder, *args):
    state = tmp_path / "app"
    state.mkdir()
    env = {
        "APP_DSN": recorder.dsn(project=PROJECT),
        "APP_SPOOL": str(tmp_path / "spool"),
        "APP_STATE": str(state),
    }
    server = WebServer("gunicorn", "tests.crashes.apps.killed_wsgi:app", env, 1, args)
    return server, state


def _kill_mid_request(server, state):
    """Start GET /orders/17?token=... (it blocks), SIGKILL its worker; the worker's pid."""
    answer = []
    thread = threading.Thread(target=lambda: answer.append(server.request("/orders/17?token=s3")))
    thread.start()
    blocked = state / "blocked"
    deadline = time.monotonic() + 20
    while not (blocked.exists() and blocked.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = int(blocked.read_text())
    os.kill(pid, signal.SIGKILL)
    thread.join(20)
    assert answer and answer[0][0] is None  # the connection broke
    return pid


@pytest.mark.parametrize("how", ["preload", "config"])
def test_a_sigkilled_gunicorn_worker_is_reported_once_by_the_master(
    recorder, tmp_path, monkeypatch, how
):
    if how == "preload":
        args = ("--preload",)
    else:
        conf = tmp_path / "gunicorn.conf.py"
        conf.write_text("from releasetag.integrations.gunicorn import child_exit  # noqa\n")
        args = ("-c", str(conf))
        monkeypatch.setenv(
            "RELEASETAG_DSN", recorder.dsn(project=PROJECT)
        )  # the master's SDK: from the env
    server, state = _gunicorn(tmp_path, recorder, *args)
    try:
        pid = _kill_mid_request(server, state)
        (event,) = recorder.wait_for(_lost, timeout=20)
        assert server.request("/")[0] == 200  # the replacement serves
        recorder.wait_for(lambda r: _crashed_sessions(r) >= 1 or None, timeout=20)
        time.sleep(1.0)  # nothing more arrives
    finally:
        server.stop()
    assert _crashed_sessions(recorder) == 1, _summary(recorder)
    assert len(_events(recorder)) == 1, _summary(recorder)
    value = event["exception"]["values"][0]
    assert value["type"] == "WorkerLost" and value["mechanism"]["handled"] is False
    assert value["mechanism"]["meta"]["signal"] == {"number": 9, "name": "SIGKILL"}
    assert value["value"] == (
        f"gunicorn worker (pid {pid}) was killed by SIGKILL (out of memory?) during GET /orders/17"
    )
    assert event["contexts"]["worker"]["pid"] == pid
    assert event["request"] == {"method": "GET", "url": "/orders/17"}  # no query string
    assert event["release"] == "shop@2.0" and event["tags"]["crash.signal"] == "SIGKILL"
    assert "s3" not in str(event)
    assert not os.path.exists(slot_dir(server.proc.pid))  # the master's slots are gone


def test_a_segfaulted_gunicorn_worker_is_one_fatal_event_with_its_request(recorder, tmp_path):
    server, state = _gunicorn(tmp_path, recorder, "--preload")
    try:
        assert server.request("/crash")[0] is None
        (event,) = recorder.wait_for(_lost, timeout=20)
        assert server.request("/")[0] == 200
        recorder.wait_for(lambda r: _crashed_sessions(r) >= 1 or None, timeout=20)
        time.sleep(1.0)
    finally:
        server.stop()
    fatal = [e for e in _events(recorder) if e.get("level") == "fatal"]
    assert fatal == [event] and _crashed_sessions(recorder) == 1, _summary(recorder)
    value = event["exception"]["values"][0]
    assert value["type"] == "SIGSEGV" and value["mechanism"]["handled"] is False
    assert [f["function"] for f in value["stacktrace"]["frames"] if f["in_app"]][-1] == "read_null"
    worker = event["contexts"]["worker"]
    assert worker["in_flight"] == "GET /crash" and worker["server"] == "gunicorn"
    assert event["request"] == {"method": "GET", "url": "/crash"}
    assert event["release"] == "shop@2.0"
    assert list((tmp_path / "spool" / "crashes").glob("crash-*")) == []


def _kill_between_tasks(producer, tmp_path):
    """Run a task that says its child's pid, then SIGKILL that child while it idles."""
    where = tmp_path / "child-pid"
    producer.send_task("tasks.where", args=[str(where)])
    deadline = time.monotonic() + 20
    while not (where.exists() and where.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the task has ended
    pid = int(where.read_text())
    os.kill(pid, signal.SIGKILL)
    return pid


def test_celery_children_killed_are_each_reported_once(redis_server, recorder, tmp_path):
    """SIGKILL mid-task: the main process's WorkerLostError event; SIGSEGV: the crash record is
    the one event (sent by the main process or the next child, whichever claims it first);
    SIGKILL between tasks: the main process's event without a task, no session."""
    from celery import Celery

    from tests.crashes.test_real_crashes import _start_worker
    from tests.integrations.celery_fixtures import CeleryWorker

    worker = CeleryWorker.__new__(CeleryWorker)
    _start_worker(worker, redis_server.url, recorder.dsn(project=PROJECT))
    producer = Celery("producer", broker=redis_server.url)
    producer.conf.broker_connection_retry_on_startup = True
    try:
        task_id = producer.send_task("tasks.killed", args=["4111111111111111"]).id
        (event,) = recorder.wait_for(_lost, timeout=40)
        producer.send_task("tasks.segfault")
        recorder.wait_for(lambda r: len(_lost(r)) >= 2 or None, timeout=40)
        recorder.wait_for(lambda r: _crashed_sessions(r) >= 2 or None, timeout=20)
        idle = _kill_between_tasks(producer, tmp_path)
        recorder.wait_for(lambda r: len(_lost(r)) >= 3 or None, timeout=20)
        time.sleep(1.5)  # nothing more arrives
    finally:
        producer.close()
        worker.stop()
    assert len(_events(recorder)) == 3 and _crashed_sessions(recorder) == 2, _summary(recorder)
    between = _lost(recorder)[-1]["exception"]["values"][0]
    assert between["value"] == f"celery worker (pid {idle}) was killed by SIGKILL (out of memory?)"
    value = event["exception"]["values"][0]
    assert value["type"] == "WorkerLostError" and value["mechanism"]["handled"] is False
    assert value["mechanism"]["meta"]["signal"] == {"number": 9, "name": "SIGKILL"}
    assert event["contexts"]["celery"] == {"task_name": "tasks.killed", "task_id": task_id}
    worker_ctx = event["contexts"]["worker"]
    assert isinstance(worker_ctx["pid"], int) and worker_ctx["signal"] == "SIGKILL"
    assert value["value"] == (
        f"celery worker (pid {worker_ctx['pid']}) was killed by SIGKILL (out of memory?) during "
        f"task tasks.killed[{task_id}]"
    )
    assert event["release"] == "billing@3.1.0" and event["tags"]["celery_task"] == "tasks.killed"
    assert "4111" not in str(event)
    (fatal,) = [e for e in _events(recorder) if e["level"] == "fatal"]
    assert fatal["exception"]["values"][0]["type"] == "SIGSEGV"
