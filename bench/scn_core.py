"""Core runtime scenarios (issue 2 goals): import, init, capture cost, delivery, RSS.

Every sample runs in a fresh child process (bench/_child_core.py) so that nothing one SDK
patches or caches leaks into the other's numbers. Events go to a real recording server
process (tests/support/recording_server.py) on 127.0.0.1; both SDKs use the same one.
"""

from __future__ import annotations

import os
from typing import Any, Dict

from .harness import Context, Goal, Scenario

CHILD = "_child_core.py"
RELEASE = "benchapp@1.0.0"  # the release the child processes report
SDKS = ("releasetag", "sentry_sdk")


def _note(ctx: Context, scenario: str, key: str, variant: str, value: Any) -> None:
    ctx.notes.setdefault(scenario, {}).setdefault(key, {})[variant] = value


def _event_sizes(ctx: Context) -> list:
    """Sizes (bytes, uncompressed) of the event items the recording server received."""
    sizes = []
    for env in ctx.recorder.envelopes():
        for item in env.items:
            if item.type == "event":
                sizes.append(len(item.payload))
    return sizes


# --- import ---------------------------------------------------------------------------------
def _import(sdk: str):
    def run(ctx: Context) -> Dict[str, float]:
        res = ctx.run_child(CHILD, "import", sdk)
        _note(
            ctx,
            "import",
            "modules loaded (total / heavy)",
            sdk,
            f"{res['modules']} / {','.join(res['heavy']) or 'none'}",
        )
        return {"time": res["time"]}

    return run


# --- init -----------------------------------------------------------------------------------
# Installed frameworks that sentry-sdk's auto-enabling integrations import at init() (releasetag
# integrates a framework only once the app has imported it). init.plain hides them, as in an
# environment where none is installed.
FRAMEWORKS = (
    "flask",
    "celery",
    "redis",
    "gunicorn",
    "werkzeug",
    "jinja2",
    "kombu",
    "billiard",
    "django",
    "sqlalchemy",
    "starlette",
    "fastapi",
    "httpx",
    "aiohttp",
    "boto3",
    "botocore",
    "pymongo",
    "rq",
    "huey",
    "arq",
    "loguru",
    "falcon",
    "bottle",
    "pyramid",
    "sanic",
    "quart",
    "tornado",
    "grpc",
    "openai",
    "anthropic",
)


def _hidden_env(ctx: Context) -> Dict[str, str]:
    return dict(ctx.env, BENCH_HIDE_MODULES=",".join(FRAMEWORKS))


def _init(sdk: str, plain: bool = False, sentry_style: bool = False):
    name = "init.sentry_style" if sentry_style else "init.plain" if plain else "init"
    cmd = "init-sentry-style" if sentry_style else "init"

    def run(ctx: Context) -> Dict[str, float]:
        res = ctx.run_child(
            CHILD, cmd, sdk, ctx.recorder.dsn(), env=_hidden_env(ctx) if plain else None
        )
        _note(ctx, name, "modules first imported by init()", sdk, res["new_modules"])
        return {"time": res["time"], "import+init": res["total"]}

    return run


# --- capture on the app thread ----------------------------------------------------------------
def _capture(kind: str, sdk: str, n_full: int, n_quick: int):
    def run(ctx: Context) -> Dict[str, float]:
        ctx.recorder.reset()
        n = n_quick if ctx.quick else n_full
        res = ctx.run_child(CHILD, kind, sdk, ctx.recorder.dsn(), n)
        sizes = _event_sizes(ctx)
        if sizes:
            _note(ctx, kind, "event size (bytes, median)", sdk, sorted(sizes)[len(sizes) // 2])
        return {"time": res["time"], "mean": res["mean"]}

    return run


# --- delivery throughput ----------------------------------------------------------------------
def _throughput(sdk: str):
    def run(ctx: Context) -> Dict[str, float]:
        ctx.recorder.reset()
        n = 500 if ctx.quick else 2000
        res = ctx.run_child(CHILD, "throughput", sdk, ctx.recorder.dsn(), n)
        delivered = len(_event_sizes(ctx)) - 1  # minus the warm-up event
        _note(ctx, "throughput", "delivered / captured (last run)", sdk, f"{delivered}/{n}")
        return {"rate": delivered / res["seconds"], "capture": n / res["capture_seconds"]}

    return run


# --- delivery to the local collector (releasetag serve) ---------------------------------------
def _collector_setup(ctx: Context) -> None:
    import json
    import subprocess

    data = os.path.join(ctx.tmpdir, "collector")
    proc = subprocess.Popen(
        [ctx.python, "-m", "releasetag", "serve", "--port", "0", "--data", data, "--json"],
        stdout=subprocess.PIPE,
        env=ctx.env,
        cwd=ctx.tmpdir,
    )
    try:
        info = json.loads(proc.stdout.readline())
    except Exception:
        proc.kill()
        proc.wait(10)
        raise
    ctx.notes.setdefault("_collector", {}).update(proc=proc, info=info)


def _collector_teardown(ctx: Context) -> None:
    proc = ctx.notes.pop("_collector", {}).get("proc")
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def _collector_count(info: Dict[str, Any]) -> int:
    """Events the collector stored for the children's release."""
    import json
    import urllib.request

    req = urllib.request.Request(
        f"{info['api_url']}organizations/{info['org']}/releases/{RELEASE}/",
        headers={"Authorization": f"Bearer {info['token']}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(json.loads(resp.read()).get("eventCount", 0))
    except Exception:  # no event for the release yet
        return 0


def _collector_throughput(sdk: str):
    def run(ctx: Context) -> Dict[str, float]:
        info = ctx.notes["_collector"]["info"]
        n = 500 if ctx.quick else 2000
        before = _collector_count(info)
        res = ctx.run_child(CHILD, "throughput", sdk, info["dsn"], n)
        delivered = _collector_count(info) - before - 1  # minus the warm-up event
        _note(ctx, "throughput.collector", "stored / captured (last run)", sdk, f"{delivered}/{n}")
        return {"rate": max(delivered, 0) / res["seconds"], "capture": n / res["capture_seconds"]}

    return run


# --- memory -----------------------------------------------------------------------------------
def _rss(sdk: str):
    def run(ctx: Context) -> Dict[str, float]:
        ctx.recorder.reset()
        res = ctx.run_child(CHILD, "rss", sdk, ctx.recorder.dsn(), 10000)
        if sdk != "none":
            _note(
                ctx,
                "rss",
                "events delivered (last run)",
                sdk,
                len(ctx.recorder.requests("/envelope/")),
            )
        ctx.recorder.reset()  # the recorder keeps every body: free it between runs
        return {k: res[k] for k in ("init", "events", "init_delta", "events_delta", "growth")}

    return run


# --- instruction counts (callgrind) -----------------------------------------------------------
def _instr(kind: str, sdk: str, n: int, plain: bool = False):
    def run(ctx: Context) -> float:
        env = _hidden_env(ctx) if plain else None
        # captures: a transport that discards events, so the count is the app thread's work
        dsn = "null" if kind.startswith("capture") else ctx.recorder.dsn()
        if kind == "deliver":
            ctx.recorder.reset()
        return ctx.callgrind_per_op(CHILD, ("ops", kind, sdk, dsn), n, env=env)

    return run


G2 = "issue 2"
SCENARIOS = [
    Scenario(
        name="import",
        title="`import releasetag` vs `import sentry_sdk` (fresh process)",
        variants={s: _import(s) for s in SDKS},
        metrics={"time": "ms"},
        repeats=15,
        quick_repeats=5,
        goals=(Goal("time", 0.2, G2, text="import releasetag <= 0.2x import sentry_sdk"),),
    ),
    Scenario(
        name="init",
        title="init(dsn, release, environment), default integrations, "
        "after the import (fresh process)",
        variants={s: _init(s) for s in SDKS},
        metrics={"time": "ms", "import+init": "ms"},
        repeats=15,
        quick_repeats=5,
        goals=(Goal("time", 0.5, G2, text="init() <= 0.5x sentry_sdk.init()"),),
        notes="in this environment: sentry-sdk imports every installed framework it "
        "integrates with (flask, celery, redis here) at init(); see init.plain",
    ),
    Scenario(
        name="init.plain",
        title="init() as in `init`, with no web framework or task queue "
        "installed (hidden from both SDKs)",
        variants={s: _init(s, plain=True) for s in SDKS},
        metrics={"time": "ms", "import+init": "ms"},
        repeats=15,
        quick_repeats=5,
        goals=(Goal("time", 0.5, G2, text="init() <= 0.5x sentry_sdk.init()"),),
    ),
    Scenario(
        name="init.sentry_style",
        title="init() with a sentry-sdk app's options: traces_sample_rate, profiles_sample_rate, "
        "enable_logs, LoggingIntegration(level=..., event_level=...), "
        "ThreadingIntegration(propagate_scope=True)",
        variants={s: _init(s, sentry_style=True) for s in SDKS},
        metrics={"time": "ms", "import+init": "ms"},
        repeats=15,
        quick_repeats=5,
        goals=(Goal("time", 0.5, G2, text="init() <= 0.5x sentry_sdk.init()"),),
    ),
    Scenario(
        name="capture_exception",
        title="capture_exception on the app thread: 30-frame chained exception, locals in "
        "every frame (delivery flushed outside the timed call)",
        variants={s: _capture("capture_exception", s, 60, 20) for s in SDKS},
        metrics={"time": "us", "mean": "us"},
        repeats=8,
        quick_repeats=3,
        goals=(Goal("time", 0.5, G2, text="capture_exception <= 0.5x sentry_sdk's"),),
        notes="time = per-process median of per-call times; mean = per-process mean",
    ),
    Scenario(
        name="capture_message",
        title="capture_message on the app thread (delivery flushed outside the timed call)",
        variants={s: _capture("capture_message", s, 300, 100) for s in SDKS},
        metrics={"time": "us", "mean": "us"},
        repeats=8,
        quick_repeats=3,
    ),
    Scenario(
        name="throughput",
        title="end-to-end delivery: capture N messages as fast as possible, flush; events "
        "delivered per second to the recording server",
        variants={s: _throughput(s) for s in SDKS},
        metrics={"rate": "events/s", "capture": "events/s"},
        higher_is_better=True,
        repeats=5,
        quick_repeats=2,
        goals=(
            Goal(
                "rate",
                None,
                "issue 3",
                min_ratio=1.5,
                text="delivered events/s >= 1.5x sentry_sdk's",
            ),
        ),
        notes="queue size set to N+100 for both SDKs so nothing is dropped; "
        "capture = rate of the capture loop alone",
    ),
    Scenario(
        name="throughput.collector",
        title="end-to-end delivery as in `throughput`, to the local collector (releasetag serve, "
        "SQLite); events/s stored",
        variants={s: _collector_throughput(s) for s in SDKS},
        metrics={"rate": "events/s", "capture": "events/s"},
        higher_is_better=True,
        repeats=3,
        quick_repeats=1,
        setup=_collector_setup,
        teardown=_collector_teardown,
        goals=(
            Goal(
                "rate", None, "issue 3", min_ratio=1.5, text="stored events/s >= 1.5x sentry_sdk's"
            ),
        ),
        notes="rate counts only events the collector stored (its release eventCount)",
    ),
    Scenario(
        name="rss",
        title="resident memory after init and after 10,000 exception events "
        "(bare = same program without an SDK)",
        variants={
            "releasetag": _rss("releasetag"),
            "sentry_sdk": _rss("sentry_sdk"),
            "bare": _rss("none"),
        },
        bare="bare",
        bare_metrics=("init", "events"),
        metrics={
            "init": "MiB",
            "events": "MiB",
            "init_delta": "MiB",
            "events_delta": "MiB",
            "growth": "MiB",
        },
        repeats=2,
        quick_repeats=1,
        warmup=0,
        notes="init/events = RSS after init / after 10,000 events; init_delta = init - bare "
        "interpreter; events_delta = events - init; growth = RSS after 10,000 events - "
        "after the first 100 (steady state: leaks show here)",
    ),
]

INSTRUCTION_SCENARIOS = [
    Scenario(
        name="import.instr",
        title="instructions executed by the import (callgrind)",
        variants={s: _instr("import", s, 1) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        goals=(Goal("instructions", 0.2, G2),),
    ),
    Scenario(
        name="init.instr",
        title="instructions executed by init() (callgrind)",
        variants={s: _instr("init", s, 1) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        goals=(Goal("instructions", 0.5, G2),),
    ),
    Scenario(
        name="init.plain.instr",
        title="instructions executed by init(), no framework installed (callgrind)",
        variants={s: _instr("init", s, 1, plain=True) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        goals=(Goal("instructions", 0.5, G2),),
    ),
    Scenario(
        name="init.own.instr",
        title="instructions executed by init() when the stdlib modules it needs are already "
        "loaded (callgrind; diagnostic)",
        variants={s: _instr("init_preloaded", s, 1, plain=True) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        notes="no framework installed; dataclasses, inspect, typing, logging, socket, "
        "urllib.parse, json, gzip, ... imported before the SDK: what is left is the "
        "SDK's own init work",
    ),
    Scenario(
        name="capture_exception.instr",
        title="instructions per capture_exception, 30-frame chained exception (callgrind)",
        variants={s: _instr("capture_exception", s, 5) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        goals=(Goal("instructions", 0.5, G2),),
        notes="(Ir(5 captures) - Ir(0)) / 5, events discarded by a null transport",
    ),
    Scenario(
        name="capture_message.instr",
        title="instructions per capture_message (callgrind)",
        variants={s: _instr("capture_message", s, 20) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        notes="(Ir(20 messages) - Ir(0)) / 20, events discarded by a null transport",
    ),
    Scenario(
        name="throughput.instr",
        title="instructions per delivered message, app and delivery thread (callgrind)",
        variants={s: _instr("deliver", s, 100) for s in SDKS},
        metrics={"instructions": "Ir"},
        repeats=1,
        quick_repeats=1,
        warmup=0,
        slow=True,
        notes="(Ir(100 messages sent to the recording server, flushed) - Ir(0)) / 100",
    ),
]

SCENARIOS += INSTRUCTION_SCENARIOS
