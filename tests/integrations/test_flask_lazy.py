"""Flask imported after init(): the integration is set up when the app imports flask."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.support.recorder import ROOT


def test_flask_imported_after_init_is_integrated(recorder):
    code = textwrap.dedent("""
        import os, sys, releasetag
        client = releasetag.init(os.environ["DSN"], release="late-web@1")
        assert "flask" not in sys.modules
        from flask import Flask

        app = Flask("late")

        @app.route("/boom")
        def boom():
            releasetag.set_tag("route", "boom")
            raise ArithmeticError("late flask failure")

        status = app.test_client().get("/boom?x=1", headers={"Authorization": "Bearer t0k"}).status_code
        releasetag.capture_message("after the request")
        releasetag.flush(5)
        print(status, sorted(client.integrations))
    """)
    env = dict(
        os.environ,
        DSN=recorder.dsn(),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 1) == [
        "500",
        "['atexit', 'excepthook', 'flask', 'logging', 'stdlib', 'threading']\n",
    ]
    failure, after = recorder.wait_for(lambda r: (lambda e: e if len(e) >= 2 else None)(r.events()))
    exc = failure["exception"]["values"][-1]
    assert exc["type"] == "ArithmeticError" and exc["mechanism"]["type"] == "flask"
    assert failure["request"]["url"] == "http://localhost/boom"
    assert failure["request"]["query_string"] == "x=1"
    assert failure["request"]["headers"]["Authorization"] == "[Filtered]"
    assert failure["tags"]["route"] == "boom"
    assert "route" not in (after.get("tags") or {})  # the request's scope ended with it
