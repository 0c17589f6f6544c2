"""Crash records (issue 28): what they add to init(), and crash-to-report time.

- ``crashes.init``: init() with crash records on vs off (``native_crashes=False``), ms; the
  ratio is what the header write and faulthandler.enable() add (goal: within init's budget).
- ``crashes.header``: opening one crash record alone (header JSON + faulthandler.enable), ms.
- ``crashes.crash_to_report``: a process segfaults; the next one starts with the same folder:
  seconds from its start until the fatal event was delivered (its first flush).
sentry-sdk has no counterpart (it does not report native crashes of Python processes).
"""

from __future__ import annotations

import os
import subprocess

from bench.harness import Context, Scenario

CHILD = "_child_crashes.py"


def _env(ctx: Context) -> dict:
    """This tree's releasetag (the harness's children otherwise import the installed one)."""
    return dict(ctx.env, PYTHONPATH=os.path.join(ctx.root, "src"))


def _folder(ctx: Context) -> str:
    path = os.path.join(ctx.tmpdir, "crash-spool")
    os.makedirs(path, exist_ok=True)
    return path


def _init(switch: str):
    def run(ctx: Context) -> float:
        res = ctx.run_child(CHILD, "init", ctx.recorder.dsn(), _folder(ctx), switch, env=_env(ctx))
        return float(res["time"])

    return run


def _header(ctx: Context) -> float:
    res = ctx.run_child(CHILD, "header", ctx.recorder.dsn(), _folder(ctx), env=_env(ctx))
    return float(res["time"])


def _crash_to_report(ctx: Context) -> float:
    folder = _folder(ctx)
    ctx.recorder.reset()
    script = os.path.join(ctx.root, "bench", CHILD)
    crashed = subprocess.run(
        [ctx.python, script, "crash", ctx.recorder.dsn(), folder],
        env=_env(ctx),
        cwd=ctx.tmpdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    if crashed.returncode >= 0:
        raise RuntimeError(f"the crash child did not crash (exit {crashed.returncode})")
    res = ctx.run_child(CHILD, "next", ctx.recorder.dsn(), folder, env=_env(ctx))
    seconds = float(res["time"])
    fatal = [e for e in ctx.recorder.events() if e.get("level") == "fatal"]
    if len(fatal) != 1:
        raise RuntimeError(f"expected one fatal event, got {len(fatal)}")
    return seconds


SCENARIOS = [
    Scenario(
        name="crashes.init",
        title="init() with crash records on vs off (native_crashes=False)",
        variants={"releasetag": _init("on"), "off": _init("off"), "sentry_sdk": _init("sentry")},
        bare=None,
        repeats=11,
        quick_repeats=5,
        warmup=1,
    ),
    Scenario(
        name="crashes.header",
        title="opening one crash record: header write + faulthandler.enable (median of 50)",
        variants={"releasetag": _header},
        reference=None,
        bare=None,
        repeats=5,
        quick_repeats=3,
    ),
    Scenario(
        name="crashes.crash_to_report",
        title="segfault, then the next process: seconds from its start to the delivered event",
        variants={"releasetag": _crash_to_report},
        metrics={"time": "s"},
        reference=None,
        bare=None,
        repeats=5,
        quick_repeats=3,
    ),
]
