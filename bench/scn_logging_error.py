"""``logger.error`` producing an event: releasetag vs sentry-sdk vs a bare logger (issue 8).

Each sample is a fresh child (bench/_child_logging_error.py) that sends N error records
through a logger with a NullHandler; with an SDK each record becomes an event delivered to
the recording server. Only the ``logger.error`` calls are timed (app thread). ``time``: single
calls, delivery flushed after each outside the timed region (the SDK's own cost);
``batch``: batches of 50 with delivery running concurrently (GIL contention included).
The breadcrumb case (``logger.info``) is ``integrations.logging``.
"""

from __future__ import annotations

from .harness import Context, Scenario


def _variant(sdk: str):
    def run(ctx: Context) -> dict:
        n = 200 if ctx.quick else 1000
        res = ctx.run_child("_child_logging_error.py", sdk, ctx.recorder.dsn(), n)
        return {"time": res["us"], "batch": res["batch_us"]}

    return run


SCENARIOS = [
    Scenario(
        name="integrations.logging_error",
        title="logger.error producing an event, per call on the app thread",
        variants={v: _variant(v) for v in ("releasetag", "sentry_sdk", "bare")},
        metrics={"time": "us", "batch": "us"},
        bare="bare",
        repeats=3,
        quick_repeats=1,
        warmup=0,
        notes="time: median single call, delivery flushed after each (untimed); batch: per "
        "call in batches of 50, delivery running meanwhile (median batch)",
    ),
]
