"""A forked child (what prefork servers and Celery pools do) starts delivery cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.support.recorder import ROOT


def test_forked_child_sends_its_own_events_and_none_of_the_parents(recorder):
    recorder.respond({"path": "/envelope/", "delay": 1.0})  # parent's first send is in flight
    code = textwrap.dedent("""
        import os, sys, releasetag
        releasetag.init(os.environ["DSN"], release="fork@1")
        releasetag.capture_message("parent 1")     # being sent when the fork happens
        releasetag.capture_message("parent 2")     # still queued when the fork happens
        pid = os.fork()
        if pid == 0:
            releasetag.capture_message("child")
            ok = releasetag.flush(10)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        assert releasetag.flush(10)
        sys.exit(os.waitstatus_to_exitcode(status))
    """)
    env = dict(
        os.environ,
        DSN=recorder.dsn(),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr  # both processes flushed before they ended
    messages = sorted(e["logentry"]["formatted"] for e in recorder.events())
    assert messages == ["child", "parent 1", "parent 2"]
