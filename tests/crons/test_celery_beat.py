"""CeleryIntegration(monitor_beat_tasks=True) with a real beat, a real worker and redis: a
check-in pair for every run of every beat entry (excluded ones aside), the entry's schedule as
the monitor config, with beat as its own process (with or without the SDK) and embedded (-B)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from releasetag.integrations.celery_beat import monitor_config
from tests.integrations.celery_fixtures import RedisServer
from tests.support.procs import stop_process
from tests.support.recorder import ROOT


def test_beat_schedules_become_monitor_configs():
    from celery import Celery
    from celery.schedules import crontab, schedule

    app = Celery("t")
    app.conf.timezone = "Europe/Vienna"
    assert monitor_config(crontab(minute="*/15", hour="2-4", day_of_week="mon"), app) == {
        "schedule": {"type": "crontab", "value": "*/15 2-4 * * mon"},
        "timezone": "Europe/Vienna",
    }
    assert monitor_config(schedule(7200), app)["schedule"] == {
        "type": "interval",
        "value": 2,
        "unit": "hour",
    }
    assert monitor_config(schedule(90), app)["schedule"] == {
        "type": "interval",
        "value": 1,
        "unit": "minute",
    }


def _celery(args: List[str], env: Dict[str, str], log: str) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.crons.beat_app", *args],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def _checkins(recorder) -> List[Dict[str, Any]]:
    return [i.json() for e in recorder.envelopes() for i in e.items if i.type == "check_in"]


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "layout", ["separate-beat-with-sdk", "separate-beat-without-sdk", "embedded"]
)
def test_every_beat_run_is_a_check_in_pair(layout, recorder, tmp_path):
    redis = RedisServer()
    procs: List[subprocess.Popen] = []
    log = str(tmp_path / "celery.log")
    try:
        env = dict(
            os.environ,
            APP_DSN=recorder.dsn(),
            APP_BROKER=redis.url,
            PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), ROOT]),
        )
        if layout == "separate-beat-without-sdk":
            env["APP_INIT_WHERE"] = "worker"
        beat = ["beat", "-s", str(tmp_path / "schedule"), "--loglevel", "INFO"]
        worker = [
            "worker",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
        if layout == "embedded":
            procs.append(_celery([*worker, "-B", "-s", str(tmp_path / "schedule")], env, log))
        else:
            procs.append(_celery(worker, env, log))
            procs.append(_celery(beat, env, log))

        def pairs(r) -> Any:
            got = _checkins(r)
            done = {(c["monitor_slug"], c["status"]) for c in got if c["status"] != "in_progress"}
            return got if {("tick-ok", "ok"), ("tick-fail", "error")} <= done else None

        got = recorder.wait_for(pairs, timeout=40)
    finally:
        for proc in procs:
            stop_process(proc, 20)
        redis.stop()
    assert {c["monitor_slug"] for c in got} == {"tick-ok", "tick-fail"}, open(log).read()[-3000:]
    by_id: Dict[str, List[str]] = {}
    for c in got:
        by_id.setdefault(c["check_in_id"], []).append(c["status"])
        assert c["monitor_config"] == {
            "schedule": {"type": "interval", "value": 1, "unit": "minute"},
            "timezone": "Europe/Vienna",
        }
        assert c["release"] == "jobs@2.0.0"
    finished = [s for s in by_id.values() if len(s) == 2]
    assert finished and all(s[0] == "in_progress" and s[1] in ("ok", "error") for s in finished)
