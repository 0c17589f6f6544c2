"""Helpers to run small app programs (real processes) against the recording server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Dict, List, Optional

from tests.support.recorder import ROOT

PRELUDE = """
import json, os, sys, time
import releasetag
from releasetag.transport.retry import RetryPolicy
FAST = RetryPolicy(backoff_base=0.05, backoff_max=0.3, jitter=0.1)
"""


def _env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), ROOT])
    env.update(extra or {})
    return env


def app_cmd(code: str) -> List[str]:
    return [sys.executable, "-c", PRELUDE + textwrap.dedent(code)]


def run_app(
    code: str,
    timeout: float = 60,
    env: Optional[Dict[str, str]] = None,
) -> subprocess.CompletedProcess:
    """Run ``code`` (after PRELUDE) in a fresh interpreter; returns the finished process."""
    return subprocess.run(
        app_cmd(code), capture_output=True, text=True, timeout=timeout, env=_env(env), cwd=ROOT
    )


def start_app(code: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Start ``code`` in the background; the caller reads stdout lines and waits."""
    return subprocess.Popen(
        app_cmd(code),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env=_env(env),
        cwd=ROOT,
    )


def wait_line(proc: subprocess.Popen, prefix: str) -> str:
    """Read stdout until a line starting with ``prefix``; fail with stderr if it ends first."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    proc.wait(10)
    raise AssertionError(
        f"app ended (rc={proc.returncode}) before {prefix!r}: "
        f"{proc.stderr.read() if proc.stderr else ''}"
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            stream.close()


def event_messages(recorder) -> List[str]:
    """The message text of every event the server accepted (duplicates kept)."""
    out = []
    for req in recorder.requests("/envelope/"):
        if not (req.get("status") or 0) // 100 == 2:
            continue  # refused (429, 5xx, ...) or never answered: not delivered
        event = req.envelope().event
        if event is None:
            continue
        entry = event.get("logentry") or {}
        out.append(entry.get("formatted") or entry.get("message") or "")
    return out


def client_reports(recorder) -> List[dict]:
    out = []
    for env in recorder.envelopes():
        for item in env.items:
            if item.type == "client_report":
                out.append(item.json())
    return out


def discarded(recorder) -> Dict[tuple, int]:
    """{(reason, category): quantity} summed over every client report received."""
    totals: Dict[tuple, int] = {}
    for report in client_reports(recorder):
        for entry in report.get("discarded_events", []):
            key = (entry["reason"], entry["category"])
            totals[key] = totals.get(key, 0) + entry["quantity"]
    return totals
