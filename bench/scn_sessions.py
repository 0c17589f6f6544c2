"""Release health (issue 14): what request-mode session tracking costs, side by side.

- ``sessions.wsgi``: the time session tracking adds to one WSGI request (hello-world app
  called directly through each SDK's middleware): per SDK one child alternates loops with
  tracking on and off (the SDK's own switch); the sample is the difference of the best
  loops. Goal: releasetag's added cost <= 0.3x sentry-sdk's.
- ``sessions.gunicorn``: the same under gunicorn (2 sync workers) with wrk (3 s a run, 2 in
  --quick): the workers time each request inside the wrapped app (call, body, close; not
  gunicorn's own work), alternating tracking on and off request by request with each SDK's
  own switch; the sample is the time with tracking on minus off.
- ``sessions.memory`` (slow): live Python memory blocks and resident memory after 100,000
  and after 1,000,000 requests with tracking on; the growth over the last 900,000.
"""

from __future__ import annotations

import json
import os
import tempfile

from .harness import Context, Goal, Scenario
from .scn_gunicorn import _setup, load_gunicorn, parse_wrk


def _tracking_cost(sdk: str):
    def run(ctx: Context) -> float:
        n = 2000 if ctx.quick else 5000
        res = ctx.run_child("_child_sessions.py", "time", sdk, ctx.recorder.dsn(), n)
        return (res["on"] - res["off"]) / 1000.0  # us

    return run


def _gunicorn_cost(sdk: str):
    def run(ctx: Context) -> dict:
        timing = tempfile.mkdtemp(dir=ctx.tmpdir)
        out = load_gunicorn(ctx, sdk, {"BENCH_TIMING_DIR": timing})
        totals = {"on": [0, 0], "off": [0, 0]}
        for name in os.listdir(timing):
            with open(os.path.join(timing, name)) as fh:
                worker = json.load(fh)
            for mode in totals:
                totals[mode][0] += worker[mode][0]
                totals[mode][1] += worker[mode][1]
        if not totals["on"][1] or not totals["off"][1]:
            raise RuntimeError("the gunicorn workers wrote no timing totals")
        app = {mode: ns / n / 1000.0 for mode, (ns, n) in totals.items()}
        return {
            "added": app["on"] - app["off"],
            "app_on": app["on"],
            "app_off": app["off"],
            "rps": parse_wrk(out)["rps"],
        }

    return run


def _memory(sdk: str):
    def run(ctx: Context) -> dict:
        n = 100_000 if ctx.quick else 1_000_000
        res = ctx.run_child("_child_sessions.py", "memory", sdk, ctx.recorder.dsn(), n, timeout=900)
        return {
            "blocks": float(res["blocks"]),
            "growth": float(res["late"] - res["early"]),
            "rss": float(res["late"]),
        }

    return run


SCENARIOS = [
    Scenario(
        name="sessions.wsgi",
        title="time request-mode session tracking adds to one WSGI request (app called directly)",
        variants={v: _tracking_cost(v) for v in ("releasetag", "sentry_sdk")},
        metrics={"time": "us"},
        repeats=5,
        quick_repeats=2,
        warmup=0,
        goals=(
            Goal("time", 0.3, "issue 14", text="tracking cost <= 0.3x sentry-sdk's tracking cost"),
        ),
        notes="each sample: best loop with tracking on - best with it off, alternating in "
        "one fresh process",
    ),
    Scenario(
        name="sessions.gunicorn",
        title="time session tracking adds per request under gunicorn (2 workers), wrk",
        variants={v: _gunicorn_cost(v) for v in ("releasetag", "sentry_sdk")},
        metrics={"added": "us", "app_on": "us", "app_off": "us", "rps": "req/s"},
        higher_is_better=("rps",),
        repeats=5,
        quick_repeats=1,
        warmup=0,
        setup=_setup,
        goals=(Goal("added", 0.3, "issue 14", text="tracking cost <= 0.3x sentry-sdk's (noisy)"),),
        notes="app: time per request inside the middleware-wrapped app (call, body, close) "
        "in the workers during a 3 s wrk run, requests alternating tracking on and off; "
        "added = app(on) - app(off)",
    ),
    Scenario(
        name="sessions.memory",
        title="resident memory over 1,000,000 requests with session tracking on",
        variants={v: _memory(v) for v in ("releasetag", "sentry_sdk", "bare")},
        metrics={"blocks": "blocks", "growth": "KiB", "rss": "KiB"},
        bare="bare",
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        notes="blocks: live Python memory blocks gained over the last 900,000 requests "
        "(after gc.collect()); growth: the same for RSS (allocator arenas included)",
    ),
]
