"""Cron monitors (issue 27): the ``monitor`` decorator's cost per call against sentry-sdk's,
and ``monitors run -- true`` start-up against sentry-cli's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List

from bench.harness import Context, Goal, Scenario, SkipScenario


def _decorated(sdk: str) -> Callable[[Context], Any]:
    def run(ctx: Context) -> Any:
        n = 300 if ctx.quick else 1500
        env = _run_env(ctx)
        return ctx.run_child("_child_crons.py", sdk, ctx.recorder.dsn(), n, env=env)["time"]

    return run


def _sentry_cli() -> str:
    path = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
    if not os.path.exists(path):
        raise SkipScenario("sentry-cli is not installed next to this Python")
    return path


def _run_env(ctx: Context) -> Dict[str, str]:
    import releasetag

    env = dict(ctx.env, SENTRY_DSN=ctx.recorder.dsn(), HOME=ctx.tmpdir)
    env["SENTRY_DISABLE_UPDATE_CHECK"] = "1"
    env["RELEASETAG_SPOOL_DIR"] = os.path.join(ctx.tmpdir, "spool")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(releasetag.__file__)))
    return env


def _wrapped(tool: str) -> Callable[[Context], Any]:
    def run(ctx: Context) -> Any:
        true = shutil.which("true") or "/bin/true"
        if tool == "bare":
            cmd: List[str] = [true]
        elif tool == "sentry-cli":
            cmd = [_sentry_cli(), "monitors", "run", "bench", "--", true]
        else:
            cmd = [ctx.python, "-m", "releasetag", "monitors", "run", "bench", "--", true]
        start = time.perf_counter()
        subprocess.run(cmd, env=_run_env(ctx), check=True, timeout=60, cwd=ctx.tmpdir)
        return (time.perf_counter() - start) * 1000

    return run


SCENARIOS = [
    Scenario(
        name="crons.decorator",
        title="a @monitor-decorated function: cost per call (two check-ins) vs sentry-sdk's",
        variants={
            "releasetag": _decorated("releasetag"),
            "sentry_sdk": _decorated("sentry_sdk"),
            "bare": _decorated("bare"),
        },
        bare="bare",
        metrics={"time": "us"},
        repeats=5,
        quick_repeats=3,
        warmup=1,
        goals=(Goal("time", 0.3, "issue 27", against="added", text="added cost <= 0.3x"),),
    ),
    Scenario(
        name="crons.run_true",
        title="`monitors run bench -- true`: wall time vs sentry-cli's (bare: `true` alone)",
        variants={
            "releasetag": _wrapped("releasetag"),
            "sentry_cli": _wrapped("sentry-cli"),
            "bare": _wrapped("bare"),
        },
        reference="sentry_cli",
        bare="bare",
        metrics={"wall": "ms"},
        repeats=11,
        quick_repeats=3,
        warmup=1,
        notes="reported, no goal: the ratio of the start-up each adds to `true`",
    ),
]
