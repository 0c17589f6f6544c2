"""sys.excepthook and threading.excepthook: report (handled: False), then call the previous hook."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.support.recorder import ROOT


def _run(code: str, dsn: str):
    env = dict(os.environ, DSN=dsn, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_uncaught_exception_is_reported_then_previous_hook_runs(recorder):
    done = _run(
        """
        import os, sys, releasetag

        def previous(etype, value, tb):
            print("previous hook saw", etype.__name__, value, file=sys.stderr)

        sys.excepthook = previous
        releasetag.init(os.environ["DSN"], release="cli@0.9", environment="batch")
        releasetag.set_tag("stage", "import")
        raise LookupError("nothing to import")
    """,
        recorder.dsn(),
    )
    assert done.returncode == 1
    assert "previous hook saw LookupError nothing to import" in done.stderr
    (event,) = recorder.wait_for(lambda r: r.events())
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "LookupError"
    assert exc["mechanism"] == {"type": "excepthook", "handled": False, "exception_id": 0}
    assert event["level"] == "error"  # as sentry-sdk sends unhandled exceptions
    assert event["release"] == "cli@0.9" and event["environment"] == "batch"
    assert event["tags"]["stage"] == "import"


def test_keyboard_interrupt_is_not_reported(recorder):
    done = _run(
        """
        import os, releasetag
        releasetag.init(os.environ["DSN"], release="cli@0.9")
        raise KeyboardInterrupt
    """,
        recorder.dsn(),
    )
    assert done.returncode != 0 and "KeyboardInterrupt" in done.stderr
    assert recorder.events() == []


def test_exception_ending_a_thread_is_reported_then_previous_hook_runs(recorder):
    done = _run(
        """
        import os, sys, threading, releasetag
        releasetag.init(os.environ["DSN"], release="svc@1.0")

        def work():
            releasetag.set_tag("thread", threading.current_thread().name)
            raise ConnectionError("lost the database")

        def quiet():
            raise SystemExit(0)  # a thread ending with SystemExit is not an error

        for target, name in ((work, "poller"), (quiet, "quiet")):
            t = threading.Thread(target=target, name=name)
            t.start()
            t.join()
        releasetag.flush(5)
        print("main continues")
    """,
        recorder.dsn(),
    )
    assert done.returncode == 0, done.stderr
    assert "main continues" in done.stdout
    # the previous (default) hook still printed the thread's traceback
    assert "Exception in thread poller" in done.stderr
    assert "ConnectionError: lost the database" in done.stderr
    (event,) = recorder.wait_for(lambda r: r.events())
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "ConnectionError"
    assert exc["mechanism"]["type"] == "threading" and exc["mechanism"]["handled"] is False
    assert event["tags"]["thread"] == "poller"
    assert event["release"] == "svc@1.0"
