"""Issue 15's figures: the ASGI middleware's cost per request (app called directly), FastAPI
under uvicorn and a Django view under gunicorn with wrk, and init() with FastAPI and Django
loaded; each side by side with sentry-sdk (and the bare app) in one run.

The web scenarios start the server on a free 127.0.0.1 port for each sample, warm it, run
``wrk -t2 -c8`` for 3 s (2 s in --quick) and stop it. wrk shares the 2 cores with the server,
so compare the ratios, not the absolute rates. Skipped (with a message) without wrk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import urllib.request
from typing import List

from .harness import Context, Goal, Scenario, SkipScenario
from .scn_gunicorn import _free_port, _wait_ready, parse_wrk

_SDKS = ("releasetag", "sentry_sdk", "bare")


def _needs_wrk(ctx: Context) -> None:
    if not shutil.which("wrk"):
        raise SkipScenario("wrk is not installed (apt-get install wrk)")


def _load(ctx: Context, name: str, argv: List[str], sdk: str, port: int) -> dict:
    env = dict(
        ctx.env,
        BENCH_WEB_SDK=sdk,
        BENCH_DSN=ctx.recorder.dsn(),
        PYTHONPATH=os.pathsep.join([os.path.join(ctx.root, "src"), ctx.root]),
    )
    log = open(os.path.join(ctx.tmpdir, f"{name}-{sdk}.log"), "w")
    proc = subprocess.Popen(
        [ctx.python, *argv], env=env, cwd=ctx.root, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/hello"
        _wait_ready(url, proc)
        for _ in range(100):  # every worker warm
            urllib.request.urlopen(url, timeout=5).read()
        seconds = 2 if ctx.quick else 3
        out = subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        return parse_wrk(out)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _fastapi(sdk: str):
    def run(ctx: Context) -> dict:
        port = _free_port()
        argv = ["-m", "uvicorn", "bench.apps.fastapi_bench:app", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
        return _load(ctx, "uvicorn", argv, sdk, port)

    return run


def _django(sdk: str):
    def run(ctx: Context) -> dict:
        port = _free_port()
        argv = ["-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level"]
        argv += ["warning", "bench.apps.django_bench:application"]
        return _load(ctx, "gunicorn-django", argv, sdk, port)

    return run


def _child(case: str, sdk: str, n: int):
    def run(ctx: Context) -> float:
        env = dict(ctx.env, PYTHONPATH=os.pathsep.join([os.path.join(ctx.root, "src"), ctx.root]))
        count = max(1000, n // 10) if ctx.quick else n
        return ctx.run_child("_child_web.py", case, sdk, ctx.recorder.dsn(), count, env=env)["time"]

    return run


_KEEP = Goal(
    "rps",
    None,
    "issue 15",
    against="bare",
    min_ratio=0.85,
    text="releasetag keeps >= 85% of the bare app's requests/s",
)

SCENARIOS = [
    Scenario(
        name="integrations.asgi",
        title="one ASGI request through the middleware (hello-world app, minimal ASGI driver)",
        variants={sdk: _child("asgi", sdk, 20000) for sdk in _SDKS},
        metrics={"time": "us"},
        bare="bare",
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(
            Goal(
                "time",
                0.2,
                "issue 15",
                against="added",
                text="added cost <= 0.2x sentry-sdk's added cost",
            ),
        ),
        notes="each sample: best of 5 loops of 20,000 requests on one event loop, fresh process",
    ),
    Scenario(
        name="web.fastapi",
        title="FastAPI hello-world under uvicorn, wrk 8 connections",
        variants={sdk: _fastapi(sdk) for sdk in _SDKS},
        metrics={"rps": "req/s", "latency": "ms", "p99": "ms"},
        bare="bare",
        higher_is_better=("rps",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        setup=_needs_wrk,
        goals=(_KEEP,),
        notes="uvicorn, 1 process; each SDK's automatic FastAPI support",
    ),
    Scenario(
        name="web.django",
        title="a Django view under gunicorn (2 workers), wrk 8 connections",
        variants={sdk: _django(sdk) for sdk in _SDKS},
        metrics={"rps": "req/s", "latency": "ms", "p99": "ms"},
        bare="bare",
        higher_is_better=("rps",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        setup=_needs_wrk,
        goals=(_KEEP,),
        notes="gunicorn sync workers; each SDK's automatic Django support",
    ),
    Scenario(
        name="init.frameworks",
        title="init() in a process that has imported FastAPI and Django's handlers",
        variants={sdk: _child("init", sdk, 0) for sdk in ("releasetag", "sentry_sdk")},
        metrics={"time": "ms"},
        repeats=7,
        quick_repeats=2,
        warmup=1,
        goals=(Goal("time", 0.5, "issue 15", text="init() <= 0.5x sentry-sdk's"),),
        notes="one init() per fresh process, wall time",
    ),
]
