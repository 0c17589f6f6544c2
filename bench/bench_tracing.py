"""Tracing calls and the breadcrumb integrations, side by side with sentry-sdk (issue 25).

    python -m bench --only 'tracing.*'

Each sample runs in a fresh interpreter (both SDKs patch http.client, redis and SQLAlchemy
process-wide), as the best ns per operation of several timed loops. Cases:

  capture_in_span  ``capture_exception()`` inside ``with start_span(...)`` (goal <= 0.2x)
  redis            ``r.get("k")`` against a local redis-server (added cost goal <= 0.3x)
  sql              ``conn.execute(text("select 1"))`` on SQLite through SQLAlchemy (<= 0.3x)
  http             a GET with http.client to a local recording server (<= 0.3x)

For the breadcrumb cases the goal is on the added cost: (releasetag - bare) / (sentry-sdk -
bare). Both SDKs run with their default integrations (sentry-sdk enables stdlib, redis and
sqlalchemy by default, as releasetag does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict

from .harness import Context, Goal, Scenario, best_seconds_per_call

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_servers: Dict[str, Any] = {}  # started once per bench run


def _init(sdk: str, dsn: str) -> Any:
    if sdk == "bare":
        return None
    import importlib

    module = importlib.import_module(sdk)
    module.init(dsn, release="bench@1.0", environment="bench")
    return module


def _capture_op(sdk: str, dsn: str, _url: str) -> Callable[[], None]:
    module = _init(sdk, dsn)

    def op() -> None:
        with module.start_span(op="task", name="work"):
            try:
                raise ValueError("bench")
            except ValueError:
                module.capture_exception()

    return op


def _redis_op(sdk: str, dsn: str, url: str) -> Callable[[], None]:
    _init(sdk, dsn)
    import redis

    client = redis.Redis.from_url(url)
    client.set("k", "v")

    def op() -> None:
        client.get("k")

    return op


def _sql_op(sdk: str, dsn: str, _url: str) -> Callable[[], None]:
    _init(sdk, dsn)
    import sqlalchemy as sa

    conn = sa.create_engine("sqlite://").connect()
    statement = sa.text("select 1")

    def op() -> None:
        conn.execute(statement).fetchall()

    return op


def _http_op(sdk: str, dsn: str, url: str) -> Callable[[], None]:
    _init(sdk, dsn)
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def op() -> None:
        conn.request("GET", "/bench/call?a=1")
        conn.getresponse().read()

    return op


CASES = {
    "capture_in_span": (_capture_op, 2000),
    "redis": (_redis_op, 2000),
    "sql": (_sql_op, 3000),
    "http": (_http_op, 500),
}


def _child(case: str, sdk: str, dsn: str, url: str, quick: bool) -> None:
    make, loops = CASES[case]
    if quick:
        loops = max(100, loops // 5)
    op = make(sdk, dsn, url)
    best = best_seconds_per_call(op, loops, 3 if quick else 5)
    print(json.dumps({"ns": best * 1e9}))
    sys.stdout.flush()
    os._exit(0)  # no exit flush: what is pending does not matter here


def _measure(case: str, sdk: str, dsn: str, url: str, quick: bool) -> float:
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src") + os.pathsep + ROOT)
    for name in list(env):
        if name.startswith(("SENTRY_", "RELEASETAG_")):
            env.pop(name)
    args = ["--child", case, sdk, dsn, url] + (["--quick"] if quick else [])
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_tracing", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["ns"])


def _redis_url() -> str:
    if "server" not in _servers:
        from tests.integrations.celery_fixtures import RedisServer

        _servers["server"] = server = RedisServer()
        import atexit

        atexit.register(server.stop)
    return str(_servers["server"].url)


def _http_url() -> str:
    """A second recording server: both SDKs leave requests to the DSN's host alone."""
    if "http" not in _servers:
        from tests.support.recorder import Recorder

        _servers["http"] = server = Recorder()
        import atexit

        atexit.register(server.stop)
    return str(_servers["http"].url)


def _variant(case: str, sdk: str) -> Callable[[Context], float]:
    def run(ctx: Context) -> float:
        url = {"redis": _redis_url, "http": _http_url}.get(case, lambda: "-")()
        return _measure(case, sdk, ctx.recorder.dsn(), url, ctx.quick) / 1000.0  # ns -> us

    return run


_TITLES = {
    "capture_in_span": "capture_exception() inside a span, per call",
    "redis": "one redis GET recorded as a breadcrumb (local redis-server)",
    "sql": "one SQLite query through SQLAlchemy recorded as a breadcrumb",
    "http": "one outgoing http.client GET recorded as a breadcrumb (local server)",
}
_SDKS = {"releasetag": "releasetag", "sentry_sdk": "sentry_sdk", "bare": "bare"}


def _scenario(case: str) -> Scenario:
    if case == "capture_in_span":
        variants = {k: _variant(case, v) for k, v in _SDKS.items() if k != "bare"}
        goal = Goal("time", 0.2, "issue 25", text="<= 0.2x sentry-sdk")
        bare = None
    else:
        variants = {k: _variant(case, v) for k, v in _SDKS.items()}
        goal = Goal(
            "time", 0.3, "issue 25", against="added", text="added cost <= 0.3x sentry-sdk's"
        )
        bare = "bare"
    return Scenario(
        name=f"tracing.{case}",
        title=_TITLES[case],
        variants=variants,
        metrics={"time": "us"},
        bare=bare,
        repeats=3,
        quick_repeats=1,
        warmup=0,
        goals=(goal,),
        notes="each sample: best of several timed loops in a fresh process "
        "(bench/bench_tracing.py)",
    )


SCENARIOS = [_scenario(case) for case in CASES]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], "--quick" in sys.argv)
