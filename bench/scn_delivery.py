"""Plugs bench/bench_delivery.py (burst, outage, throughput vs sentry-sdk) into ``python -m bench``.

bench_delivery.py stays a standalone script; this module wraps its one-run function
(``run_one``: a fresh child process against its own recording server, distinct event ids
counted on arrival) as harness variants. The sizes are always the script's ``--quick`` ones
(N=1000 events, a 5 s outage): the full ones (N=5000, a 30 s outage) take minutes per sample;
run ``python bench/bench_delivery.py`` for them.
"""

from __future__ import annotations

from . import bench_delivery as _bd
from .harness import Context, Goal, Scenario

WRAPS = ("bench_delivery",)  # python -m bench: no "defines no SCENARIOS" note for it
N = 1000  # the script's --quick size
OUTAGE = 5.0  # seconds the server is down (the script's --quick outage)

_SDKS = {  # harness variant -> (bench_delivery sdk, spool on, transport threads)
    "releasetag": ("releasetag", True, 1),  # spool on (survives restarts)
    "releasetag_nospool": ("releasetag", False, 1),  # memory queue only, like sentry-sdk
    "sentry_sdk": ("sentry-sdk", False, 1),
}


def _variant(case: str, ours: str):
    sdk, spool, threads = _SDKS[ours]

    def run(ctx: Context) -> dict:
        r = _bd.run_one(sdk, case, N, OUTAGE, spool, threads)
        delivered = 100.0 * r["delivered"] / N
        if r.get("duplicates"):
            ctx.notes.setdefault(f"delivery.{case}", {}).setdefault("duplicates", {})[ours] = r[
                "duplicates"
            ]
        if case == "throughput":
            return {
                "rate": r["delivered"] / r["seconds"] if r.get("seconds") else 0.0,
                "capture_p99": r.get("capture_p99_us", 0.0),
                "max_capture": r.get("max_capture_ms", 0.0),
            }
        if case == "burst":
            return {
                "delivered": delivered,
                "capture_loop": r.get("capture_seconds", 0) * 1000,
                "total": r.get("seconds", 0) * 1000,
            }
        return {"delivered": delivered}

    return run


def _variants(case: str) -> dict:
    return {ours: _variant(case, ours) for ours in _SDKS}


SCENARIOS = [
    Scenario(
        name="delivery.burst",
        title=f"{N} capture_message calls as fast as possible, then flush",
        variants=_variants("burst"),
        metrics={"delivered": "%", "capture_loop": "ms", "total": "ms"},
        higher_is_better=("delivered",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        notes="delivered: distinct event ids that reached the recording server; "
        "capture_loop: the app thread's time for the N calls; total: until flushed",
    ),
    Scenario(
        name="delivery.outage",
        title=f"server down {OUTAGE:.0f} s while {N} events are emitted, then back",
        variants=_variants("outage"),
        metrics={"delivered": "%"},
        higher_is_better=True,
        repeats=1,
        quick_repeats=1,
        warmup=0,
        notes=f"each sample lasts about {OUTAGE:.0f} s plus the retry backoff; "
        "the full 30 s outage: python bench/bench_delivery.py --only outage",
    ),
    Scenario(
        name="delivery.throughput",
        title=f"{N} events in batches of 100, flush after each batch",
        variants=_variants("throughput"),
        metrics={"rate": "events/s", "capture_p99": "us", "max_capture": "ms"},
        higher_is_better=("rate",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(
            Goal(
                "rate",
                None,
                "issue 3",
                min_ratio=1.5,
                text="delivered events/s >= 1.5x sentry-sdk's",
            ),
        ),
        notes="capture_p99 / max_capture: the slowest capture calls on the app thread",
    ),
]
