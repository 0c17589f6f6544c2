"""``releasetag monitors run`` side by side with ``sentry-cli monitors run`` against the
recording server: the same check-in items, the command's output and exit status its own, a
signal reported as ``error``, and check-ins kept while the server is away sent by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from tests.support.recorder import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SENTRY_CLI = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
FLAGS = [
    "-s",
    "*/5 * * * *",
    "--check-in-margin",
    "2",
    "--max-runtime",
    "10",
    "--timezone",
    "Europe/Vienna",
    "--failure-issue-threshold",
    "2",
    "--recovery-threshold",
    "3",
    "-e",
    "stage",
]


def _env(tmp_path, dsn: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    env.update(SENTRY_DSN=dsn, HOME=str(tmp_path), RELEASETAG_SPOOL_DIR=str(tmp_path / "spool"))
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), ROOT])
    return env


def _ours(*args: str) -> List[str]:
    return [sys.executable, "-m", "releasetag", "monitors", "run", *args]


def _checkins(recorder) -> List[Dict[str, Any]]:
    return [
        item.json() for env in recorder.envelopes() for item in env.items if item.type == "check_in"
    ]


def _run(cmd: List[str], env: Dict[str, str], tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "wb") as fh:
        proc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=60)
    return proc.returncode, out.read_text()


def test_items_exit_code_and_output_match_sentry_cli(recorder, tmp_path):
    env = _env(tmp_path, recorder.dsn())
    job = ["--", "sh", "-c", "echo out; exit 3"]
    results = {}
    for name, cmd in (
        ("theirs", [SENTRY_CLI, "monitors", "run", "job", *FLAGS, *job]),
        ("ours", _ours("job", *FLAGS, *job)),
    ):
        recorder.reset()
        code, output = _run(cmd, env, tmp_path)
        results[name] = (
            code,
            output,
            recorder.wait_for(lambda r: len(_checkins(r)) >= 2 and _checkins(r)),
        )
    (code, output, theirs), (our_code, our_output, ours) = results["theirs"], results["ours"]
    assert our_code == code == 3 and our_output == output == "out\n"
    assert [c["status"] for c in ours] == [c["status"] for c in theirs] == ["in_progress", "error"]
    for mine, peer in zip(ours, theirs):
        assert set(mine) == set(peer)
        for key in set(peer) - {"check_in_id", "duration"}:
            assert mine[key] == peer[key], key
    assert ours[0]["check_in_id"] == ours[1]["check_in_id"]
    assert ours[1]["duration"] >= 0


def test_a_signal_that_ends_the_command_is_an_error(recorder, tmp_path):
    code, _ = _run(
        _ours("sig", "--", "sh", "-c", "kill -TERM $$"), _env(tmp_path, recorder.dsn()), tmp_path
    )
    assert code == 128 + signal.SIGTERM
    got = recorder.wait_for(lambda r: len(_checkins(r)) >= 2 and _checkins(r))
    assert [c["status"] for c in got] == ["in_progress", "error"]


def test_the_command_runs_without_the_server_and_its_check_ins_come_later(recorder, tmp_path):
    env = _env(tmp_path, recorder.dsn())
    recorder.stop()
    code, output = _run(_ours("away", "--", "sh", "-c", "echo ran"), env, tmp_path)
    assert code == 0 and output.startswith("ran\n")
    assert os.listdir(tmp_path / "spool")
    recorder.restart()
    env = _env(tmp_path, recorder.dsn())
    code, _ = _run(_ours("back", "--", "true"), env, tmp_path)
    assert code == 0
    got = recorder.wait_for(lambda r: len(_checkins(r)) >= 4 and _checkins(r))
    assert [(c["monitor_slug"], c["status"]) for c in got] == [
        ("away", "in_progress"),
        ("away", "ok"),
        ("back", "in_progress"),
        ("back", "ok"),
    ]


@pytest.mark.parametrize(
    "args, says",
    [
        (["-s", "61 * * * *"], "invalid crontab for --schedule"),
        (["-s", "* * * * *", "--timezone", "Mars/Olympus"], "invalid --timezone 'Mars/Olympus'"),
        (["--max-runtime", "3"], "--max-runtime requires --schedule"),
    ],
)
def test_bad_schedule_or_timezone_is_one_line_and_exit_2(args, says, tmp_path):
    code, output = _run(
        _ours("x", *args, "--", "true"), _env(tmp_path, "http://k@127.0.0.1:9/1"), tmp_path
    )
    assert code == 2
    assert output.count("\n") == 1 and says in output
