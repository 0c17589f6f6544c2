"""Graceful shutdowns lose nothing without an option: each real server is told to stop
(SIGTERM or SIGINT) with requests (or a Celery task) in flight; the requests finish and every
event and every session (ok and crashed) arrives at the recording server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.support.recorder import ROOT
from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow


def _sessions(recorder):
    counts = {"exited": 0, "errored": 0, "crashed": 0, "abnormal": 0}
    for request in recorder.envelopes():
        for item in request.items:
            if item.type == "sessions":
                for entry in item.json()["aggregates"]:
                    for key in counts:
                        counts[key] += entry.get(key, 0)
    return counts


def _messages(recorder):
    """The app's own messages (servers' error logs also arrive, through logging)."""
    found = [e.get("logentry", {}).get("formatted", "") for e in recorder.events()]
    return sorted(m for m in found if m.startswith("served "))


def _errors(recorder):
    return [
        (e["exception"]["values"][-1]["type"], e["exception"]["values"][-1]["value"])
        for e in recorder.events()
        if "exception" in e
    ]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunServer:
    """Django's ``runserver`` for the one-module project tests/crashes/apps/shutdown_django.py,
    with or without its autoreloader (which serves from a child process)."""

    def __init__(self, env, reload, tmp_path):
        self.port = _free_port()
        full_env = {
            **os.environ,
            "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "DJANGO_SETTINGS_MODULE": "tests.crashes.apps.shutdown_django",
            **env,
        }
        self.logfile = open(tmp_path / "runserver.log", "w+")  # noqa: SIM115 - closed in stop
        args = [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(
            args + ([] if reload else ["--noreload"]),
            cwd=ROOT,
            env=full_env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, as a terminal's Ctrl-C would signal
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        log = self.log()
        self.stop()
        raise RuntimeError("runserver did not start:\n" + log)

    request = WebServer.request

    def log(self):
        if not self.logfile.closed:
            self.logfile.seek(0)
            self.text = self.logfile.read()
        return self.text

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a reloader child left behind
        except OSError:
            pass
        self.log()
        self.logfile.close()


def _start(kind, env, tmp_path):
    if kind.startswith("runserver"):
        return RunServer(env, kind == "runserver-reload", tmp_path)
    asgi = kind in ("uvicorn", "hypercorn", "gunicorn-uvicorn")
    app = "tests.crashes.apps.shutdown_asgi:app" if asgi else "tests.crashes.apps.shutdown_wsgi:app"
    return WebServer(kind, app, env, workers=1)


CASES = [
    (kind, signum)
    for kind in (
        "uvicorn",
        "hypercorn",
        "gunicorn",
        "gunicorn-uvicorn",
        "runserver",
        "runserver-reload",
    )
    for signum in (signal.SIGTERM, signal.SIGINT)
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind, signum", CASES, ids=[f"{k}-{s.name}" for k, s in CASES])
def test_a_server_stopped_with_requests_in_flight_sends_every_event_and_session(
    recorder, tmp_path, kind, signum
):
    env = {"APP_DSN": recorder.dsn(), "APP_SPOOL": str(tmp_path / "spool")}
    server = _start(kind, env, tmp_path)
    in_flight = 1 if kind == "gunicorn" else 2  # one sync worker serves one at a time
    try:
        for path in ("/", "/a", "/b"):
            assert server.request(path)[0] == 200
        assert server.request("/boom")[0] == 500
        answers = []
        slow = [
            threading.Thread(target=lambda: answers.append(server.request("/slow")[0]))
            for _ in range(in_flight)
        ]
        for thread in slow:
            thread.start()
        threading.Event().wait(0.3)  # all in flight
        if kind == "runserver-reload" and signum == signal.SIGINT:
            os.killpg(server.proc.pid, signum)  # Ctrl-C: the reloader and its child
        else:
            server.proc.send_signal(signum)
        for thread in slow:
            thread.join(10)
        code = server.proc.wait(15)
        if kind == "uvicorn":
            assert code == (-signum if signum == signal.SIGTERM else 0)  # SIGTERM: re-raised
    finally:
        server.stop()
    log = "".join(server.log) if isinstance(server, WebServer) else server.log()
    # Django's runserver has no graceful shutdown (its request threads are daemons) and
    # gunicorn's SIGINT is its quick shutdown: the requests in flight are cut, by design
    cut = kind.startswith("runserver") or (kind == "gunicorn" and signum == signal.SIGINT)
    finished = 0 if cut else in_flight
    assert answers.count(200) == finished, log
    served = ["served /", "served /a", "served /b"] + ["served /slow"] * finished
    assert _messages(recorder) == served, log
    errors = [("RuntimeError", "boom")]
    if kind == "gunicorn" and cut:  # gunicorn logs the cut request's SystemExit as an error
        errors.append(("SystemExit", "0"))
    assert sorted(_errors(recorder)) == errors
    counted = in_flight if kind == "gunicorn" else finished  # SystemExit: exited, as sentry-sdk
    expected = {"exited": 3 + counted, "errored": 0, "crashed": 1, "abnormal": 0}
    assert _sessions(recorder) == expected, log


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_celery_worker_warm_shutdown_with_tasks_running_sends_their_events_and_sessions(
    redis_server, recorder, signum
):
    from celery import Celery

    from tests.integrations.celery_fixtures import CeleryWorker

    worker = CeleryWorker(
        redis_server.url, recorder.dsn(), app="tests.crashes.apps.shutdown_celery"
    )
    producer = Celery("producer", broker=redis_server.url)
    producer.conf.broker_connection_retry_on_startup = True
    try:
        producer.send_task("tasks.charge", args=[5])  # a crash, done before the signal
        for name in ("a", "b"):
            producer.send_task("tasks.slow_note", args=[name])
        deadline = time.monotonic() + 30
        while worker.log().count("tasks.slow_note[") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # both running in the two prefork children
        worker.proc.send_signal(signum)  # the main process only: Celery's warm shutdown
        worker.proc.wait(30)
        log = worker.log()
    finally:
        producer.close()
        worker.stop()
    assert log.count("succeeded") == 2, log  # the tasks in flight completed
    assert sorted(_messages_of(recorder)) == ["slow note: a", "slow note: b"]
    assert _errors(recorder) == [("ValueError", "card declined for order 5")]
    assert _sessions(recorder) == {"exited": 2, "errored": 0, "crashed": 1, "abnormal": 0}


def _messages_of(recorder):
    return [e["logentry"]["formatted"] for e in recorder.events() if "logentry" in e]


SCRIPT = """
import os, time, releasetag
option = {"auto": None, "off": False}[os.environ["OPTION"]]
releasetag.init(os.environ["DSN"], release="cli@1", flush_on_sigterm=option)
for i in range(3):
    releasetag.capture_message(f"m{i}")
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("option", ["auto", "off"])
def test_a_plain_process_killed_by_sigterm_flushes_unless_switched_off(recorder, tmp_path, option):
    recorder.respond({"path": "/envelope/", "delay": 0.4})  # one at a time, each 0.4 s
    env = dict(os.environ, DSN=recorder.dsn(), OPTION=option)
    with open(tmp_path / "out.log", "w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 20
            while "ready" not in (tmp_path / "out.log").read_text():
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.02)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == -signal.SIGTERM  # still dies of SIGTERM
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    arrived = len(recorder.events())
    assert arrived == 3 if option == "auto" else arrived < 3
