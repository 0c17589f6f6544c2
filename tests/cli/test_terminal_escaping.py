"""Data the operator does not control never reaches the terminal as control sequences: the
real CLI against a server (the recording server answering as Sentry, and the real collector)
that serves release names, commit messages, error details and frame URLs holding ESC
sequences, BEL, CR, C1 controls and bidi overrides; the bytes on stdout and stderr are read."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Dict, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.cli.output import safe, table
from releasetag.protocol.release import CONTROL_CHARACTERS
from tests.support.collector import Collector

pytestmark = pytest.mark.timeout(120)

# clear the screen, set the window title, ring the bell, return to the line start, a C1 CSI,
# a right-to-left override (reads "exe.txt" backwards), a backspace and DEL
HOSTILE = "v1\x1b[2J\x1b]0;owned\x07\rX\x9b31m\u202etxt.exe\x08\x7f\u2028end"


def run_bytes(env: Dict[str, str], *args: str, cwd: str) -> Tuple[int, str, str]:
    """Run the real CLI; (exit code, stdout, stderr) decoded strictly as UTF-8."""
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def assert_clean(text: str) -> None:
    raw = sorted({f"U+{ord(ch):04X}" for ch in text if ch in CONTROL_CHARACTERS and ch != "\n"})
    assert not raw, f"raw control characters {raw} in {text!r}"


def assert_escaped(text: str) -> None:
    """The hostile value was printed, escaped (so the test looked at the right output)."""
    assert "\\x1b[2J" in text and "\\u202etxt.exe" in text, text


TEXT = st.text() | st.text(alphabet="ab\\ " + "".join(sorted(CONTROL_CHARACTERS)))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_safe_leaves_no_control_character_and_changes_nothing_else(text):
    out = safe(text)
    assert_clean(out)
    assert "\n" not in out
    if not any(ch in CONTROL_CHARACTERS for ch in text):
        assert out == text
    # character by character: a control becomes its escape, every other character stays
    assert out == "".join(safe(ch) for ch in text)
    for ch in CONTROL_CHARACTERS:
        assert safe(ch) == (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    kept = safe(text, keep_newlines=True)
    assert_clean(kept)
    assert kept.split("\n") == [safe(part) for part in text.split("\n")]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), max_size=4))
def test_a_table_of_any_cells_has_one_line_per_row(rows):
    text = table(["A", "B"], rows)
    assert_clean(text.replace("\n", ""))
    assert len(text.split("\n")) == 2 + len(rows)


def test_release_names_commit_messages_and_health_from_the_server(api_env, recorder, tmp_path):
    recorder.respond(
        {"path": "/sessions/", "body": {"groups": [
            {"by": {"environment": HOSTILE}, "totals": {"sum(session)": 3}}]}},
        {"path": "/commits/", "body": [{"id": "a" * 40, "message": HOSTILE,
                                        "repository": {"name": HOSTILE},
                                        "author": {"email": HOSTILE}}]},
        {"path": "/releases/1.0/", "method": "GET",
         "body": {"version": HOSTILE, "url": HOSTILE, "dateCreated": HOSTILE}},
        {"path": "/releases/", "method": "GET",
         "body": [{"version": HOSTILE, "dateCreated": "2024-01-01T00:00:00Z",
                   "lastEvent": HOSTILE}]},
    )  # fmt: skip
    code, out, err = run_bytes(api_env, "releases", "list", cwd=str(tmp_path))
    assert code == 0, (out, err)
    assert_clean(out + err)
    assert_escaped(out)
    assert len(out.splitlines()) == 3, out  # header, rule, one row: no line forged

    code, out, err = run_bytes(api_env, "releases", "info", "1.0", "--show-commits", cwd=".")
    assert code == 0, (out, err)
    assert_clean(out + err)
    assert_escaped(out.split("Commit", 1)[1])  # the commit table
    assert out.startswith("Version:       v1\\x1b[2J"), out


def test_deploys_list_from_the_server(api_env, recorder, tmp_path):
    recorder.respond(
        {"path": "/deploys/", "method": "GET",
         "body": [{"environment": HOSTILE, "name": HOSTILE, "dateStarted": None}]},
    )  # fmt: skip
    code, out, err = run_bytes(api_env, "releases", "deploys", "1.0", "list", cwd=str(tmp_path))
    assert code == 0, (out, err)
    assert_clean(out + err)
    assert_escaped(out)


def test_error_details_from_the_server_are_one_clean_line(api_env, recorder, tmp_path):
    recorder.respond(
        {"path": "/repos/", "body": [{"name": HOSTILE, "url": None}]},
        {"path": "/releases/", "method": "POST", "status": 400, "body": {"detail": HOSTILE}},
    )  # fmt: skip
    code, out, err = run_bytes(api_env, "releases", "new", "1.0", cwd=str(tmp_path))
    assert code == 1, (out, err)
    assert_clean(out + err)
    assert_escaped(err)
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err

    recorder.reset()
    recorder.respond({"path": "/repos/", "body": [{"name": HOSTILE, "url": None}]})
    code, out, err = run_bytes(
        api_env, "releases", "set-commits", "1.0", "-c", "acme/web@" + "a" * 40, cwd=str(tmp_path)
    )
    assert code == 1, (out, err)
    assert "unknown repository" in err and len(err.splitlines()) == 1, err
    assert_clean(out + err)
    assert_escaped(err)

    code, out, err = run_bytes(
        api_env, "releases", "new", "1.0", "--allow-failure", cwd=str(tmp_path)
    )
    assert code == 0, (out, err)
    assert_clean(out + err)


def test_set_commits_previous_commit_from_the_server(api_env, recorder, make_repo):
    repo = make_repo()
    repo.write("a.txt", "a")
    repo.commit("first")
    recorder.respond(
        {"path": "/previous-with-commits/",
         "body": {"version": HOSTILE, "lastCommit": {"id": "\x1b[2J\u202e" + "b" * 38}}},
    )  # fmt: skip
    code, out, err = run_bytes(api_env, "releases", "set-commits", "1.0", "--local", cwd=repo.path)
    assert code == 1, (out, err)
    assert "is not in this repository" in err, err
    assert_clean(out + err)
    assert "\\x1b[2J\\u202e" in err


def test_sourcemaps_explain_frame_urls_and_steps(api_env, recorder, tmp_path):
    event_id = "ab" * 16
    frame = {"filename": HOSTILE, "lineno": 1, "colno": 9, "function": HOSTILE}
    event = {"id": event_id, "entries": [{"type": "exception", "data": {"values": [
        {"type": "Error", "stacktrace": {"frames": [frame]}}]}}]}  # fmt: skip
    recorder.respond(
        {"path": "/source-map-debug/", "body": {"errors": [{"message": HOSTILE}]}},
        {"path": f"/events/{event_id}/", "body": event},
    )
    code, out, err = run_bytes(api_env, "sourcemaps", "explain", event_id, cwd=str(tmp_path))
    assert code == 0, (out, err)
    assert_clean(out + err)
    assert_escaped(out)
    assert len(out.splitlines()) == 2, out  # the frame and its one step

    code, out, err = run_bytes(
        api_env, "sourcemaps", "explain", event_id, "--json", cwd=str(tmp_path)
    )
    assert code == 0, (out, err)
    assert_clean(out)
    assert json.loads(out)["frames"][0]["minified"]["file"] == HOSTILE  # data kept exact


@pytest.mark.slow
def test_the_collector_refuses_control_characters_in_release_names(tmp_path):
    """An event sent with only the DSN key names a release: the collector keeps the event but
    creates no release of that name; the Web API refuses to create one."""
    collector = Collector(str(tmp_path / "collector"))
    try:
        env = collector.env()
        dsn_key = collector.dsn.split("//", 1)[1].split("@", 1)[0]
        event_id = "cd" * 16
        header = {"event_id": event_id, "dsn": collector.dsn}
        event = {"event_id": event_id, "release": HOSTILE, "message": "hi", "platform": "python"}
        body = "\n".join(json.dumps(x) for x in (header, {"type": "event"}, event)).encode() + b"\n"
        project_id = collector.dsn.rstrip("/").rsplit("/", 1)[1]
        req = urllib.request.Request(
            f"{collector.url}/api/{project_id}/envelope/?sentry_key={dsn_key}",
            data=body,
            headers={"Content-Type": "application/x-sentry-envelope"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
        assert collector.event(event_id)["id"].replace("-", "") == event_id  # kept
        code, out, err = run_bytes(env, "releases", "list", "--json", cwd=str(tmp_path))
        assert code == 0, err
        assert all(r["version"] != HOSTILE for r in json.loads(out)), out

        status, answer = collector.request(
            "POST",
            f"/api/0/organizations/{collector.org}/releases/",
            {"version": "v1\x1b[2J", "projects": [collector.project]},
        )
        assert status == 400, (status, answer)
        code, out, err = run_bytes(env, "releases", "list", cwd=str(tmp_path))
        assert code == 0 and "v1" not in out, (out, err)
    finally:
        collector.stop()
