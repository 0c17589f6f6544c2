"""`releasetag --version`, `propose-version` and `send-event`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from releasetag import __version__
from tests.core.test_release import make_repo, needs_git


def run(*args, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "releasetag", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"releasetag {__version__}"


def test_propose_version_from_env_and_json(tmp_path):
    out = run("propose-version", env={"SENTRY_RELEASE": "app@2"}, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (0, "app@2\n")
    out = run("propose-version", "--json", env={"CIRCLE_SHA1": "f" * 40}, cwd=tmp_path)
    assert json.loads(out.stdout) == {"release": "f" * 40, "source": "CIRCLE_SHA1", "stamp": None}


def test_propose_version_nothing_found_exits_1(tmp_path):
    out = run("propose-version", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("error: could not detect a release")
    assert "Traceback" not in out.stderr


@needs_git
def test_stamp_then_runtime_reads_it_without_git(tmp_path):
    head = make_repo(tmp_path / "repo")
    out = run(
        "propose-version",
        "--stamp",
        str(tmp_path / "app" / ".releasetag-release"),
        cwd=tmp_path / "repo",
    )
    assert out.returncode == 1 and "cannot write release file" in out.stderr
    (tmp_path / "app").mkdir()
    out = run(
        "propose-version",
        "--stamp",
        str(tmp_path / "app" / ".releasetag-release"),
        cwd=tmp_path / "repo",
    )
    assert out.stdout.strip() == head
    # the "container": no .git, only the stamped file
    script = "import releasetag; print(releasetag.detect_release())"
    res = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path / "app",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.stdout.strip() == head


def test_send_event_reaches_server_with_release(recorder, tmp_path):
    out = run(
        "send-event",
        "-m",
        "hello from ci",
        "-t",
        "k:v",
        "--release",
        "app@3",
        "-E",
        "ci",
        env={"RELEASETAG_DSN": recorder.dsn()},
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Event dispatched.\nEvent id: ")
    event = recorder.events()[0]
    assert event["logentry"]["message"] == "hello from ci"
    assert (event["release"], event["environment"], event["tags"]) == ("app@3", "ci", {"k": "v"})


def test_send_event_refused_key_is_one_line_exit_1(recorder, tmp_path):
    recorder.respond({"path": "/envelope/", "status": 401, "body": {"detail": "invalid key"}})
    out = run("send-event", "-m", "x", "--dsn", recorder.dsn(), cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr == "error: the server did not accept the event: HTTP 401: invalid key\n"


def test_send_event_bad_dsn_and_no_dsn(tmp_path):
    out = run("send-event", "-m", "x", "--dsn", "nonsense", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("error: invalid DSN")
    out = run("send-event", "-m", "x", cwd=tmp_path)
    assert out.returncode == 2 and "no DSN" in out.stderr


def test_unknown_command_is_usage_error():
    out = run("frobnicate")
    assert out.returncode == 2 and "error:" in out.stderr
