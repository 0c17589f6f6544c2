"""Killed workers (issue 28): what the request slot costs a gunicorn worker.

Under a master that runs the SDK (``--preload``, or the child_exit line in gunicorn.conf.py)
each sync worker writes the method and path of the request it starts to a memory-mapped slot
and clears it at the end, so that the master can name the request of a worker that dies.

- ``killed.slot``: microseconds a request call takes through the slot wrapper vs the same
  handler called directly (in one process, median of 5 x N calls): ``added`` is the cost.
- ``killed.gunicorn``: the hello-world app under ``gunicorn -w 2`` with wrk (as
  ``integrations.gunicorn``): releasetag with ``--preload`` (the master watches, the slot is
  written) vs releasetag without it (no slot), sentry-sdk and bare.
sentry-sdk has no counterpart (it does not report killed workers).
"""

from __future__ import annotations

import os

from bench.harness import Context, Scenario
from bench.scn_gunicorn import _setup, load_gunicorn, parse_wrk


def _slot(ctx: Context) -> dict:
    env = dict(ctx.env, PYTHONPATH=os.path.join(ctx.root, "src"))
    res = ctx.run_child("_child_killed.py", "slot", 20000 if ctx.quick else 200000, env=env)
    return {"added": float(res["added"]), "slot": float(res["slot"])}


def _gunicorn(sdk: str, preload: bool):
    def run(ctx: Context) -> dict:
        return parse_wrk(load_gunicorn(ctx, sdk, args=("--preload",) if preload else ()))

    return run


SCENARIOS = [
    Scenario(
        name="killed.slot",
        title="request slot of a watched gunicorn worker: us a request call adds",
        variants={"releasetag": _slot},
        metrics={"added": "us", "slot": "us"},
        reference=None,
        bare=None,
        repeats=5,
        quick_repeats=3,
    ),
    Scenario(
        name="killed.gunicorn",
        title="hello-world WSGI app under gunicorn -w 2: --preload (slot written) vs not, wrk",
        variants={
            "releasetag": _gunicorn("releasetag", True),
            "unwatched": _gunicorn("releasetag", False),
            "sentry_sdk": _gunicorn("sentry_sdk", True),
            "bare": _gunicorn("bare", True),
        },
        metrics={"rps": "req/s", "latency": "ms", "p99": "ms"},
        bare="bare",
        higher_is_better=("rps",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        setup=_setup,
        notes="wrk -t2 -c8 for 3 s (2 s in --quick) per sample; releasetag and sentry-sdk both "
        "run with --preload; 'unwatched' is releasetag without it (no slot)",
    ),
]
