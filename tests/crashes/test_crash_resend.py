"""A crash record sent twice (its first sender died between the delivery and the removal of
its claim) is one event at the server: the copy carries the same event id, and the local
collector keeps one event per id and one session per session id."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.support.collector import Collector
from tests.support.recorder import ROOT

pytestmark = pytest.mark.slow

CRASH = """
import ctypes, os, releasetag
releasetag.init(os.environ["DSN"], release="shop@7", spool_dir=os.environ["SPOOL"],
                session_mode="application")
ctypes.string_at(0)
"""
START = """
import os, releasetag
releasetag.init(os.environ["DSN"], release="tool@9", spool_dir=os.environ["SPOOL"])
releasetag.flush(10)
print(os.getpid(), releasetag.delivery_stats()["sent"])
"""


def _run(code, env, tmp_path, name):
    with open(tmp_path / f"{name}.log", "w+") as log:
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, stdout=log,
            stderr=subprocess.STDOUT, timeout=60,
        )  # fmt: skip
        log.seek(0)
        return proc.returncode, log.read()


def test_a_record_sent_again_after_its_sender_died_is_one_event_and_one_crash(tmp_path):
    collector = Collector(str(tmp_path / "data"))
    spool = tmp_path / "spool"
    env = dict(
        os.environ, DSN=collector.dsn, SPOOL=str(spool),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )  # fmt: skip
    try:
        code, out = _run(CRASH, env, tmp_path, "crash")
        assert code == -11, out
        (record,) = (spool / "crashes").glob("crash-*.rec")
        kept = tmp_path / "record.copy"
        shutil.copy(record, kept)
        code, out = _run(START, env, tmp_path, "first")  # claims, delivers, removes its claim
        first_pid, sent = map(int, out.split()[-2:])
        assert code == 0 and sent == 1, out
        assert list((spool / "crashes").glob("*")) == []
        # what a death of the first sender right after the delivery would have left
        (spool / "crashes").mkdir(exist_ok=True)
        shutil.copy(kept, spool / "crashes" / f"{record.name}.claim-{first_pid}")
        code, out = _run(START, env, tmp_path, "second")
        assert code == 0 and out.split()[-1] == "1", out  # really sent again
        assert list((spool / "crashes").glob("*")) == []
        fatal = _wait(lambda: [e for e in collector.events() if e.get("level") == "fatal"])
        time.sleep(0.5)  # the second copy was answered before the second process ended
        fatal = [e for e in collector.events() if e.get("level") == "fatal"]
        assert len(fatal) == 1, fatal
        sessions = collector.api(
            "GET",
            f"/organizations/{collector.org}/sessions/?field=sum(session)"
            "&groupBy=session.status&statsPeriod=24h&project=-1",
        )
        counts = {
            g["by"]["session.status"]: g["totals"]["sum(session)"] for g in sessions["groups"]
        }
        assert counts.get("crashed") == 1, json.dumps(sessions)
    finally:
        collector.stop()


def _wait(find, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.1)
    return find()
