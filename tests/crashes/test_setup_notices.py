"""Nothing silent at set-up: a missing release, debug mode, a second init() (which keeps the
in-flight request's session) are said on stderr whatever the app's logging configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.support.recorder import ROOT


def _run(code, tmp_path, dsn):
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, DSN=dsn, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_no_release_is_one_line_on_stderr_even_with_logging_silenced(recorder, tmp_path):
    done = _run(
        """
        import logging, os, releasetag
        logging.getLogger("releasetag").addHandler(logging.NullHandler())
        logging.getLogger("releasetag").propagate = False
        releasetag.init(os.environ["DSN"])  # no .git here, no variables
        releasetag.init(os.environ["DSN"])  # said once
        """,
        tmp_path,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "no release found" in line]
    assert len(lines) == 1, done.stderr
    for what in ("RELEASETAG_RELEASE", ".releasetag-release", "git HEAD", "init(release="):
        assert what in lines[0]


def test_a_second_init_keeps_the_in_flight_request_session_and_says_where(recorder, tmp_path):
    tasks = "import os, releasetag\nreleasetag.init(os.environ['DSN'], release='web@1')\n"
    (tmp_path / "tasks.py").write_text(tasks)
    done = _run(
        """
        import os, releasetag
        from releasetag.integrations.wsgi import ReleasetagMiddleware

        releasetag.init(os.environ["DSN"], release="web@1")

        def app(environ, start_response):
            import tasks  # its import calls init() again, mid-request
            start_response("200 OK", [])
            return [b"ok"]

        wrapped = ReleasetagMiddleware(app)
        for _ in range(3):
            wrapped({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *a: None)
        releasetag.flush(5)
        """,
        tmp_path,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    again = [line for line in done.stderr.splitlines() if "init() called again" in line]
    assert len(again) == 1 and f"{tmp_path / 'tasks.py'}:2" in again[0], done.stderr
    counted = sum(
        entry.get("exited", 0)
        for r in recorder.envelopes()
        for item in r.items
        if item.type == "sessions"
        for entry in item.json()["aggregates"]
    )
    assert counted == 3


def test_debug_mode_shows_the_set_up_and_each_answer_without_logging_configured(recorder, tmp_path):
    done = _run(
        """
        import os, releasetag
        releasetag.init(os.environ["DSN"], release="cli@1", debug=True)
        releasetag.capture_message("hello")
        releasetag.flush(5)
        """,
        tmp_path,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    assert f"init: DSN 127.0.0.1:{recorder.port} project 42, release cli@1" in done.stderr
    assert f"to 127.0.0.1:{recorder.port}: HTTP 200" in done.stderr
