"""Crash records left by a dead process are reported once by the next one: the fatal event
carries the crashed process's release and session; bad records are discarded and counted."""

from __future__ import annotations

import faulthandler
import json
import os

import pytest

from releasetag import crash_reports, native_crashes
from releasetag.client import Client
from releasetag.testing import CapturingTransport

DEAD_PID = 4_194_304 + 4321  # above Linux's largest pid_max: never a live process


def _client(**options):
    options.setdefault("release", "new@2")
    return Client(transport=CapturingTransport(), default_integrations=False, **options)


def _header(pid=DEAD_PID, **fields):
    header = {
        "releasetag_crash": native_crashes.FORMAT,
        "pid": pid,
        "proc_start": None,
        "started": 1_700_000_000.0,
        "release": "old@1",
        "environment": "staging",
        "dist": "7",
        "server_name": "web-3",
        "session": {
            "sid": "0b8c1f4e-8a36-4b38-9b47-3c1a4c8a2f10",
            "started": 1_700_000_000.0,
            "did": None,
            "attrs": {"release": "old@1", "environment": "staging"},
        },
    }
    header.update(fields)
    return header


def _crash_here(folder, header, error="Segmentation fault"):
    """A record as a crash would leave it: the header, then faulthandler's own output."""
    path = folder / f"crash-{header.get('pid', DEAD_PID)}-0000abcd.rec"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        fh.write(f"Fatal Python error: {error}\n\n")
        fh.flush()
        faulthandler.dump_traceback(file=fh, all_threads=True)
    return path


def test_a_record_of_a_dead_process_is_sent_once_as_its_fatal_crash(tmp_path):
    path = _crash_here(tmp_path, _header())
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 1
    assert crash_reports.report_pending(client, str(tmp_path)) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{path.name}.claim-{os.getpid()}"]
    crash_reports.settle(client, 1.0)  # sent: the claim goes
    assert list(tmp_path.iterdir()) == []
    (event,) = client.transport.events
    assert event["level"] == "fatal"
    assert (event["release"], event["environment"], event["dist"], event["server_name"]) == (
        "old@1",
        "staging",
        "7",
        "web-3",
    )
    (value,) = event["exception"]["values"]
    assert value["type"] == "SIGSEGV"
    assert value["mechanism"]["handled"] is False
    assert value["mechanism"]["meta"]["signal"] == {"number": 11, "name": "SIGSEGV"}
    frames = value["stacktrace"]["frames"]
    mine = [f for f in frames if f["function"] == "_crash_here"]
    assert mine and mine[0]["in_app"] is True and mine[0]["abs_path"] == __file__
    assert "faulthandler.dump_traceback" in mine[0]["context_line"]
    assert frames[-1]["function"] == "_crash_here"  # the crashing frame comes last
    assert any(f["in_app"] is False for f in frames)  # pytest's own frames
    (session,) = client.transport.sessions
    assert session["sid"] == _header()["session"]["sid"]
    assert session["status"] == "crashed" and session["errors"] == 1
    assert session["attrs"] == {"release": "old@1", "environment": "staging"}
    assert path.exists() is False


@pytest.mark.parametrize(
    "error, name", [("Aborted", "SIGABRT"), ("Floating point exception", "SIGFPE")]
)
def test_the_mechanism_names_the_signal(tmp_path, error, name):
    _crash_here(tmp_path, _header(session=None), error)
    client = _client()
    crash_reports.report_pending(client, str(tmp_path))
    (event,) = client.transport.events
    assert event["exception"]["values"][0]["type"] == name
    assert client.transport.sessions == []


def _raw(folder, data: bytes, pid=DEAD_PID):
    path = folder / f"crash-{pid}-00000001.rec"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data",
    [
        b'{"releasetag_crash": 1, "pid": 12',  # cut inside the header
        b'{"releasetag_crash": 99, "pid": 1}\nFatal Python error: Aborted\n',  # another version
        b"\x00\x00\x00\x00",  # a crash on a full disk
    ],
)
def test_an_unreadable_record_is_discarded_and_counted_never_sent(tmp_path, data):
    _raw(tmp_path, data)
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 0
    assert client.transport.events == []
    assert client.delivery_stats()["dropped"] == {"internal_sdk_error": 1}
    assert list(tmp_path.iterdir()) == []


def test_a_record_with_only_its_header_is_removed_without_an_event(tmp_path):
    _raw(tmp_path, json.dumps(_header()).encode() + b"\n")  # killed (SIGKILL), no traceback
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 0
    assert client.transport.events == [] and client.delivery_stats()["dropped"] == {}
    assert list(tmp_path.iterdir()) == []


def test_a_record_of_a_live_process_is_left_alone_but_a_reused_pid_is_reported(tmp_path):
    parent = os.getppid()
    started = native_crashes.process_start_ticks(parent)
    live = _crash_here(tmp_path, _header(pid=parent, proc_start=started))
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 0
    assert live.exists()
    if started is None:
        pytest.skip("no /proc here: a live pid is always left alone")  # not Linux
    live.unlink()
    _crash_here(tmp_path, _header(pid=parent, proc_start=started - 1))  # an earlier owner
    assert crash_reports.report_pending(client, str(tmp_path)) == 1
    crash_reports.settle(client, 1.0)


def test_an_enormous_record_is_cut_and_what_was_read_is_sent_once(tmp_path):
    path = _crash_here(tmp_path, _header())
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('  File "/srv/app/deep.py", line 1 in recurse\n' * 60_000)  # ~2.6 MB
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 1
    (event,) = client.transport.events
    assert event["extra"]["crash_record"].startswith("cut at")
    assert crash_reports.report_pending(client, str(tmp_path)) == 0
    crash_reports.settle(client, 1.0)


def test_the_claim_of_a_process_that_died_before_sending_is_reported_again(tmp_path):
    path = _crash_here(tmp_path, _header())
    path.rename(f"{path}.claim-{DEAD_PID}")  # claimed, then the claimer died
    client = _client()
    assert crash_reports.report_pending(client, str(tmp_path)) == 1
    crash_reports.settle(client, 1.0)
    assert list(tmp_path.iterdir()) == [] and len(client.transport.events) == 1


def test_a_record_sent_again_after_its_claimer_died_carries_the_same_event_id(tmp_path):
    path = _crash_here(tmp_path, _header())
    data = path.read_bytes()
    first = _client()
    assert crash_reports.report_pending(first, str(tmp_path)) == 1
    crash_reports.settle(first, 1.0)
    # the first claimer delivered, then died before removing its claim
    (tmp_path / f"{path.name}.claim-{DEAD_PID}").write_bytes(data)
    second = _client()
    assert crash_reports.report_pending(second, str(tmp_path)) == 1
    crash_reports.settle(second, 1.0)
    (sent,) = first.transport.events
    (again,) = second.transport.events
    assert sent["event_id"] == again["event_id"]
    assert len(sent["event_id"]) == 32 and int(sent["event_id"], 16) >= 0
    other = _crash_here(tmp_path, _header(started=1_700_000_001.0))  # another record
    third = _client()
    assert crash_reports.report_pending(third, str(tmp_path)) == 1
    crash_reports.settle(third, 1.0)
    assert not other.exists() and third.transport.events[0]["event_id"] != sent["event_id"]
