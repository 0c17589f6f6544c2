"""Integration overhead, side by side with sentry-sdk, in one run.

    python bench/bench_integrations.py [--quick]

(exit status 1 when a goal is missed)

Each (case, sdk) pair runs in its own interpreter, because both SDKs patch logging and
Celery process-wide. Both SDKs point at a local recording server (nothing is sent by these
cases: breadcrumbs only, successful requests and tasks). Reported per operation: the time,
the time the SDK adds over the bare app, and ratios.

Cases:
  logging  ``logger.info("user %s logged in", name)`` recorded as a breadcrumb
  wsgi     one request through the middleware, hello-world app called directly
  celery   one eager task (``task.delay()`` with task_always_eager)
Goals: logging and wsgi added cost <= 0.5x sentry-sdk's; celery <= sentry-sdk's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS = {"logging": 0.5, "wsgi": 0.5, "celery": 1.0}
SDKS = ("bare", "releasetag", "sentry-sdk")


def _init(sdk: str, dsn: str, celery: bool = False) -> None:
    if sdk == "releasetag":
        import releasetag

        releasetag.init(dsn, release="bench@1.0", environment="bench")
    elif sdk == "sentry-sdk":
        import sentry_sdk

        integrations = []
        if celery:
            from sentry_sdk.integrations.celery import CeleryIntegration

            integrations.append(CeleryIntegration())
        sentry_sdk.init(dsn, release="bench@1.0", environment="bench", integrations=integrations)


def _logging_op(sdk: str, dsn: str):
    import logging

    _init(sdk, dsn)
    logger = logging.getLogger("bench.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())

    def op() -> None:
        logger.info("user %s logged in", "alice")

    return op


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _wsgi_op(sdk: str, dsn: str):
    _init(sdk, dsn)
    app = _hello
    if sdk == "releasetag":
        from releasetag.integrations.wsgi import ReleasetagMiddleware

        app = ReleasetagMiddleware(_hello)
    elif sdk == "sentry-sdk":
        from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

        app = SentryWsgiMiddleware(_hello)
    return wsgi_request_op(app)


def wsgi_request_op(app):
    """One GET /hello?a=1 through ``app``: call, iterate the body, close it."""
    from wsgiref.util import setup_testing_defaults

    base = {
        "PATH_INFO": "/hello",
        "QUERY_STRING": "a=1",
        "REQUEST_METHOD": "GET",
        "HTTP_HOST": "localhost:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
    }
    setup_testing_defaults(base)

    def start_response(status, headers, exc_info=None):
        return None

    def op() -> None:
        body = app(dict(base), start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    return op


def _celery_op(sdk: str, dsn: str):
    from celery import Celery

    app = Celery("bench", broker="memory://", set_as_current=False)
    app.conf.task_always_eager = True
    app.conf.task_store_eager_result = False

    @app.task(name="bench.add")
    def add(x, y):
        return x + y

    _init(sdk, dsn, celery=True)

    def op() -> None:
        add.delay(1, 2)

    return op


CASES = {"logging": (_logging_op, 20000), "wsgi": (_wsgi_op, 5000), "celery": (_celery_op, 1000)}


def _child(case: str, sdk: str, dsn: str, quick: bool) -> None:
    make, loops = CASES[case]
    if quick:
        loops = max(100, loops // 10)
    op = make(sdk, dsn)
    for _ in range(loops // 5):  # warm up
        op()
    best = float("inf")
    for _ in range(3 if quick else 7):
        start = time.perf_counter()
        for _ in range(loops):
            op()
        best = min(best, (time.perf_counter() - start) / loops)
    print(json.dumps({"ns": best * 1e9}))
    sys.stdout.flush()
    os._exit(0)  # no exit flush: nothing of interest is pending


def _measure(case: str, sdk: str, dsn: str, quick: bool) -> float:
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src") + os.pathsep + ROOT)
    for name in list(env):
        if name.startswith(("SENTRY_", "RELEASETAG_")):
            env.pop(name)
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, sdk, dsn] + (["--quick"] if quick else []),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["ns"]


def main(argv: list) -> int:
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2], argv[3], "--quick" in argv)
        return 0
    quick = "--quick" in argv
    sys.path.insert(0, ROOT)
    from tests.support.recorder import Recorder

    recorder = Recorder()
    try:
        dsn = recorder.dsn()
        rows = []
        rounds = 1 if quick else 3
        for case in CASES:
            # rounds interleave the three variants; the best of each counts (noise only adds)
            ns = {sdk: float("inf") for sdk in SDKS}
            for _ in range(rounds):
                for sdk in SDKS:
                    ns[sdk] = min(ns[sdk], _measure(case, sdk, dsn, quick))
            rows.append((case, ns))
    finally:
        recorder.stop()
    import sentry_sdk

    import releasetag

    print(
        f"python {sys.version.split()[0]}, releasetag {releasetag.__version__}, "
        f"sentry-sdk {sentry_sdk.VERSION}"
    )
    print(
        f"{'case':8} {'bare ns':>9} {'rt ns':>9} {'sentry ns':>10} {'rt added':>9} "
        f"{'sentry added':>13} {'added ratio':>12} {'goal':>6} {'rt/bare':>8} "
        f"{'sentry/bare':>12}"
    )
    ok = True
    for case, ns in rows:
        rt_added = ns["releasetag"] - ns["bare"]
        se_added = ns["sentry-sdk"] - ns["bare"]
        ratio = rt_added / se_added if se_added > 0 else float("inf")
        met = ratio <= GOALS[case]
        ok = ok and met
        print(
            f"{case:8} {ns['bare']:9.0f} {ns['releasetag']:9.0f} {ns['sentry-sdk']:10.0f} "
            f"{rt_added:9.0f} {se_added:13.0f} {ratio:11.2f}x {GOALS[case]:5.1f}x "
            f"{ns['releasetag'] / ns['bare']:7.2f}x {ns['sentry-sdk'] / ns['bare']:11.2f}x"
            f"{'' if met else '  (goal missed)'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
