"""The parent's side of a dead worker, without processes: the event and session it sends,
the crash-record ownership rule, the gunicorn slot, the statuses Celery and gunicorn give and
the log lines that stay breadcrumbs. (The real servers: test_killed_workers.py.)"""

from __future__ import annotations

import json
import logging
import os
import signal

import pytest

from releasetag import native_crashes, worker_deaths
from releasetag.client import Client
from releasetag.integrations import celery_lost, gunicorn
from releasetag.testing import CapturingTransport


@pytest.fixture
def client():
    transport = CapturingTransport()
    made = Client("http://key@127.0.0.1:9/1", release="shop@2.0", transport=transport)
    yield made
    made.close(0)


def _crashed(transport):
    return sum(a.get("crashed", 0) for s in transport.sessions for a in s.get("aggregates", []))


def test_a_sigkilled_worker_is_one_error_event_and_one_crashed_session(client):
    what = {"request": {"method": "GET", "url": "/orders/17"}}
    assert worker_deaths.lost(client, "gunicorn", 4242, signal.SIGKILL, what=what) == "event"
    (event,) = client.transport.events
    value = event["exception"]["values"][0]
    assert value["value"] == (
        "gunicorn worker (pid 4242) was killed by SIGKILL (out of memory?) during GET /orders/17"
    )
    assert value["mechanism"] == {
        "type": "gunicorn", "handled": False, "synthetic": True,
        "meta": {"signal": {"number": 9, "name": "SIGKILL"}},
    }  # fmt: skip
    assert event["level"] == "error" and event["release"] == "shop@2.0"
    assert event["request"] == {"method": "GET", "url": "/orders/17"}
    assert event["contexts"]["worker"]["in_flight"] == "GET /orders/17"
    assert _crashed(client.transport) == 1


def test_an_exit_mid_request_says_so_and_an_unknown_request_says_unknown(client):
    worker_deaths.lost(client, "gunicorn", 7, None, exit_code=1, what={}, note="timed out")
    worker_deaths.lost(client, "gunicorn", 8, signal.SIGBUS, what=None)
    first, second = (e["exception"]["values"][0]["value"] for e in client.transport.events)
    assert first == "gunicorn worker (pid 7) exited with code 1 (timed out)"
    assert second == "gunicorn worker (pid 8) was killed by SIGBUS; request in flight unknown"
    assert _crashed(client.transport) == 0  # no request known to be lost


def _record(folder, pid, text):
    os.makedirs(folder, exist_ok=True)
    header = dict(native_crashes.header_for(Client(release="shop@1.9")), pid=pid, proc_start=1)
    path = os.path.join(folder, f"crash-{pid}-abcd.rec")
    with open(path, "w") as fh:
        fh.write(json.dumps(header) + "\n" + text)
    return path


def test_a_worker_with_a_crash_record_is_reported_by_its_record_with_the_request(client, tmp_path):
    traceback = (
        "Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f (most recent call "
        'first):\n  File "/srv/app.py", line 3 in read_null\n'
    )
    _record(str(tmp_path), 99991, traceback)
    what = {"request": {"method": "POST", "url": "/pay"}}
    found = worker_deaths.lost(
        client, "gunicorn", 99991, signal.SIGSEGV, what=what, crash_folder=str(tmp_path)
    )
    assert found == "record"
    (event,) = client.transport.events
    assert event["level"] == "fatal" and event["release"] == "shop@1.9"  # the worker's
    assert event["exception"]["values"][0]["stacktrace"]["frames"][-1]["function"] == "read_null"
    assert event["request"] == {"method": "POST", "url": "/pay"}
    assert not (tmp_path / "crash-99991-abcd.rec").exists()  # claimed: nobody else sends it
    assert _crashed(client.transport) == 1


def test_a_record_taken_by_another_process_or_expected_is_not_reported_twice(client, tmp_path):
    claimed = _record(str(tmp_path), 99992, "Fatal Python error: Aborted\n")
    os.rename(claimed, claimed + ".claim-1")
    task = {"task": {"name": "tasks.pay", "id": "t-1"}}
    assert worker_deaths.lost(
        client, "celery", 99992, 6, what=task, crash_folder=str(tmp_path)
    ) == ("left")
    gone = worker_deaths.lost(
        client, "celery", 99993, 11, what=task, crash_folder=str(tmp_path), record_expected=True
    )
    assert gone == "left" and client.transport.events == []
    assert _crashed(client.transport) == 2  # the tasks still count


@pytest.mark.parametrize("status, expected", [(-9, (9, None)), (-11, (11, None)), (1, (None, 1))])
def test_celery_statuses_are_read_from_billiards_message(status, expected):
    from billiard.common import human_status
    from billiard.exceptions import WorkerLostError

    error = WorkerLostError(f"Worker exited prematurely: {human_status(status)} Job: 3.")
    assert celery_lost.is_lost(error) and celery_lost.status_of(str(error)) == expected


class _Req:
    method = "DELETE"
    path = "/carts/ü"


def _slot(master, pid):
    import mmap

    path = os.path.join(gunicorn.slot_dir(master), str(pid))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"\0" * gunicorn.SLOT_SIZE)
    with open(path, "r+b") as fh:
        return gunicorn._Slot(mmap.mmap(fh.fileno(), gunicorn.SLOT_SIZE))


def test_the_slot_holds_the_request_until_it_is_done(monkeypatch, tmp_path):
    monkeypatch.setattr(gunicorn, "slot_dir", lambda m: str(tmp_path / str(m)))
    meta = {"slot": True, "crash_folder": None, "release": None}
    _slot(1, 2).begin(_Req())
    assert gunicorn.read_slot(1, 2) == ("DELETE /carts/\u00fc", meta)
    assert gunicorn.read_slot(1, 2) == (None, {})  # read once: the file is gone
    done = _slot(1, 3)
    done.begin(_Req())
    done.end()
    assert gunicorn.read_slot(1, 3) == (None, meta)
    _slot(1, 4).mem[: gunicorn.SLOT_SIZE] = b"\x01" + b"\xff" * (gunicorn.SLOT_SIZE - 1)
    assert gunicorn.read_slot(1, 4)[1] == {}  # garbage: never an exception, nothing known
    _slot(1, 5)  # a worker that never recorded a request (another worker class)
    assert gunicorn.read_slot(1, 5) == (None, {})


@pytest.mark.parametrize(
    "signum, code, busy, unknown, report",
    [
        (9, None, False, False, True),  # SIGKILL, idle: the worker is gone all the same
        (15, None, False, False, False),  # SIGTERM while idle: a stop
        (15, None, True, False, True),
        (None, 0, True, False, False),  # a clean exit
        (None, 1, True, False, True),  # the timeout abort: exit 1 in the middle
        (None, 1, False, False, False),
        (None, None, True, True, True),
    ],
)
def test_which_ends_the_master_reports(signum, code, busy, unknown, report):
    assert gunicorn._abnormal(signum, code, busy, unknown) is report


def test_the_reaped_status_is_read_from_gunicorns_reap_loop():
    def reap_workers():
        wpid, status = 321, 9  # noqa: F841 - the names gunicorn's Arbiter.reap_workers uses
        return hook(wpid)

    def hook(pid):
        return gunicorn._reaped_status(pid)

    assert reap_workers() == 9 and hook(321) is None
    import inspect

    from gunicorn.arbiter import Arbiter

    source = inspect.getsource(Arbiter.reap_workers)  # the installed gunicorn has them
    assert "wpid, status = os.waitpid(" in source and "self.cfg.child_exit(self, worker)" in source


def test_the_servers_lines_about_a_reported_death_make_no_event(monkeypatch):
    monkeypatch.setattr(gunicorn, "_master", os.getpid())

    def record(name, msg, *args):
        return logging.LogRecord(name, logging.ERROR, "f", 1, msg, args, None)

    sent = record("gunicorn.error", "Worker (pid:%s) was sent %s! Perhaps out of memory?", 1, "K")
    assert gunicorn._reported_here(sent)
    assert not gunicorn._reported_here(record("gunicorn.error", "Worker (pid:%s) booted", 1))
    assert not gunicorn._reported_here(record("app", sent.msg, 1, "SIGKILL"))
    from billiard.exceptions import WorkerLostError

    line = "Task handler raised error: %r"
    assert celery_lost._reported_here(record("celery.worker.request", line, WorkerLostError("x")))
    assert not celery_lost._reported_here(record("celery.worker.request", line, ValueError("x")))
