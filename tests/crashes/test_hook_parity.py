"""sys.unraisablehook and threading.excepthook errors: the same event as sentry-sdk 2.76 sends
to the same recording server (exception, mechanism, level), then the previous hook runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.support.recorder import ROOT

pytestmark = pytest.mark.slow

APP = """
import os, sys, threading
{setup}

class Leaky:
    def __del__(self):
        raise RuntimeError("cannot close the handle")

def work():
    raise ConnectionError("lost the database")

Leaky()  # __del__ raises: an unraisable exception
t = threading.Thread(target=work)
t.start()
t.join()
{flush}
"""
SENTRY = """
import sentry_sdk
from sentry_sdk.integrations.unraisablehook import UnraisablehookIntegration
sys.unraisablehook = lambda u: print("previous hook:", type(u.exc_value).__name__, file=sys.stderr)
sentry_sdk.init(os.environ["DSN"], release="svc@1", integrations=[UnraisablehookIntegration()])
"""
OURS = """
import releasetag
from releasetag.integrations.unraisablehook import UnraisablehookIntegration
sys.unraisablehook = lambda u: print("previous hook:", type(u.exc_value).__name__, file=sys.stderr)
releasetag.init(os.environ["DSN"], release="svc@1", integrations=[UnraisablehookIntegration()])
"""


def _events(recorder, setup, flush):
    recorder.reset()
    code = textwrap.dedent(APP).format(setup=textwrap.dedent(setup), flush=flush)
    env = dict(
        os.environ,
        DSN=recorder.dsn(),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "previous hook: RuntimeError" in done.stderr
    events = recorder.wait_for(lambda r: (lambda e: e if len(e) >= 2 else None)(r.events()))
    return {e["exception"]["values"][-1]["type"]: e for e in events}


def _shape(event):
    value = event["exception"]["values"][-1]
    mechanism = {k: v for k, v in value["mechanism"].items() if k in ("type", "handled")}
    return (event["level"], value["type"], value["value"], mechanism, event["release"])


def test_unraisable_and_thread_errors_match_sentry_sdk(recorder):
    theirs = _events(recorder, SENTRY, "sentry_sdk.flush(5)")
    ours = _events(recorder, OURS, "releasetag.flush(5)")
    assert sorted(theirs) == sorted(ours) == ["ConnectionError", "RuntimeError"]
    for name in ours:
        assert _shape(ours[name]) == _shape(theirs[name])
    assert _shape(ours["RuntimeError"])[3] == {"type": "unraisablehook", "handled": False}
    assert _shape(ours["ConnectionError"])[3] == {"type": "threading", "handled": False}
    frames = ours["RuntimeError"]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"].endswith("__del__")
