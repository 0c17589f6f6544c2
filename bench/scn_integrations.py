"""Plugs bench/bench_integrations.py (integration overhead, issue 4) into ``python -m bench``.

bench_integrations.py stays a standalone script; this module only wraps its per-sample
measurement (``_measure``: one child process, best ns per operation) as harness variants, so
that the harness alternates the variants, repeats them and computes the ratios, including
the goal's ratio of added cost: (releasetag - bare) / (sentry-sdk - bare).
"""

from __future__ import annotations

from . import bench_integrations as _bi
from .harness import Context, Goal, Scenario

WRAPS = ("bench_integrations",)  # python -m bench: no "defines no SCENARIOS" note for it
_TITLES = {
    "logging": "logger.info recorded as a breadcrumb, per call",
    "wsgi": "one WSGI request through the middleware (hello-world app called directly)",
    "celery": "one eager Celery task (task.delay with task_always_eager)",
}
_NAMES = {"releasetag": "releasetag", "sentry_sdk": "sentry-sdk", "bare": "bare"}


def _variant(case: str, sdk: str):
    def run(ctx: Context) -> float:
        return _bi._measure(case, sdk, ctx.recorder.dsn(), ctx.quick) / 1000.0  # ns -> us

    return run


SCENARIOS = [
    Scenario(
        name=f"integrations.{case}",
        title=_TITLES.get(case, case),
        variants={ours: _variant(case, theirs) for ours, theirs in _NAMES.items()},
        metrics={"time": "us"},
        bare="bare",
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(
            Goal(
                "time",
                _bi.GOALS[case],
                "issue 4",
                against="added",
                text=f"added cost <= {_bi.GOALS[case]}x sentry-sdk's added cost",
            ),
        ),
        notes="each sample: best of several timed loops in a fresh process "
        "(bench/bench_integrations.py)",
    )
    for case in _bi.CASES
]
