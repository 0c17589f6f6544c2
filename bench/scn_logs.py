"""Sentry Logs (issue 26): the app thread's cost of one log, and logs kept through an outage.

- ``logs.logging_info``: ``logger.info`` through the logging integration with logs enabled,
  per call; goal: the cost releasetag adds over a bare logger <= 0.3x sentry-sdk's.
- ``logs.logger_info``: ``<sdk>.logger.info(template, param=...)`` per call; goal <= 0.3x.
- ``logs.outage`` (slow): 100,000 records while the server is down for 30 s, then up: how
  many logs each SDK delivers (goal: all of releasetag's).
"""

from __future__ import annotations

import os
import socket

from .harness import Context, Goal, Scenario


def _env(ctx: Context) -> dict:
    """The children import this checkout's releasetag (a worktree's, not an installed one)."""
    root = str(ctx.root)
    return dict(ctx.env, PYTHONPATH=os.pathsep.join([os.path.join(root, "src"), root]))


def _timed(mode: str, sdk: str):
    def run(ctx: Context) -> float:
        n = 1000 if ctx.quick else 5000
        return float(
            ctx.run_child("_child_logs.py", mode, sdk, ctx.recorder.dsn(), n, env=_env(ctx))["us"]
        )

    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _outage(sdk: str):
    def run(ctx: Context) -> float:
        n = 100_000
        port = _free_port()
        res = ctx.run_child("_child_logs.py", "outage", sdk, port, n, timeout=240, env=_env(ctx))
        notes = ctx.notes.setdefault("logs.outage", {})
        notes.setdefault("delivered of", {})[sdk] = n
        notes.setdefault("flush finished", {})[sdk] = res.get("flushed")
        notes.setdefault("dropped (its own count)", {})[sdk] = res.get("dropped")
        return float(res["delivered"])

    return run


SCENARIOS = [
    Scenario(
        name="logs.logging_info",
        title="logger.info through the logging integration, logs enabled, per call",
        variants={v: _timed("logging", v) for v in ("releasetag", "sentry_sdk", "bare")},
        metrics={"time": "us"},
        bare="bare",
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(Goal("time", 0.3, "issue 26", against="added"),),
    ),
    Scenario(
        name="logs.logger_info",
        title="<sdk>.logger.info(template, param=...) per call",
        variants={v: _timed("logger", v) for v in ("releasetag", "sentry_sdk")},
        metrics={"time": "us"},
        bare=None,
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(Goal("time", 0.3, "issue 26"),),
    ),
    Scenario(
        name="logs.outage",
        title="logs delivered of 100,000 sent during a 30 s outage",
        variants={v: _outage(v) for v in ("releasetag", "sentry_sdk")},
        metrics={"delivered": "logs"},
        higher_is_better=True,
        bare=None,
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        goals=(
            Goal("delivered", None, "issue 26: all 100,000", against="value", min_ratio=100_000),
        ),
    ),
]
