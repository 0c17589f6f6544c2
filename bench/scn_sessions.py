"""Release health (issue 14): what request-mode session tracking costs, side by side.

- ``sessions.wsgi``: the time session tracking adds to one WSGI request (hello-world app
  called directly through each SDK's middleware): per SDK one child alternates loops with
  tracking on and off (the SDK's own switch); the sample is the difference of the best
  loops. Goal: releasetag's added cost <= 0.3x sentry-sdk's.
- ``sessions.gunicorn``: the same under gunicorn (2 sync workers) with wrk (3 s a run, 2 in
  --quick): per SDK a run with tracking on and one off; the workers time each request
  inside the wrapped app (call, body, close; not gunicorn's own work) and the sample is that
  time with tracking on minus off. Noisier than the direct call: read both.
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


def _gunicorn_run(ctx: Context, sdk: str, tracking: bool) -> dict:
    """Requests/s of one wrk run, and the microseconds per request the workers spent in the
    app (the SDK's middleware around hello-world), from their totals written at exit."""
    timing = tempfile.mkdtemp(dir=ctx.tmpdir)
    out = load_gunicorn(
        ctx, sdk, {"BENCH_SESSIONS": "on" if tracking else "off", "BENCH_TIMING_DIR": timing}
    )
    totals = []
    for name in os.listdir(timing):
        with open(os.path.join(timing, name)) as fh:
            totals.append(json.load(fh))
    served = sum(t["requests"] for t in totals)
    if not served:
        raise RuntimeError("the gunicorn workers wrote no timing totals")
    return {"rps": parse_wrk(out)["rps"], "app": sum(t["ns"] for t in totals) / served / 1000.0}


def _gunicorn_cost(sdk: str):
    def run(ctx: Context) -> dict:
        on = _gunicorn_run(ctx, sdk, True)
        off = _gunicorn_run(ctx, sdk, False)
        return {
            "added": on["app"] - off["app"],
            "app_on": on["app"],
            "app_off": off["app"],
            "rps_on": on["rps"],
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
        metrics={"added": "us", "app_on": "us", "app_off": "us", "rps_on": "req/s"},
        higher_is_better=("rps_on",),
        repeats=5,
        quick_repeats=1,
        warmup=0,
        setup=_setup,
        goals=(Goal("added", 0.3, "issue 14", text="tracking cost <= 0.3x sentry-sdk's (noisy)"),),
        notes="app: time per request inside the middleware-wrapped app (call, body, close) "
        "in the workers during a 3 s wrk run; added = app(on) - app(off)",
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
