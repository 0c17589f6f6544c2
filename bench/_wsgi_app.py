"""Hello-world WSGI app for the gunicorn scenario (bench/scn_gunicorn.py).

``BENCH_SESSIONS=off`` turns request-mode session tracking off (default on);
``BENCH_TIMING_DIR`` makes the workers time each request and alternate tracking on and off.
``BENCH_WSGI_SDK`` chooses the variant: ``bare`` (the app alone), ``releasetag``
(ReleasetagMiddleware) or ``sentry_sdk`` (SentryWsgiMiddleware); ``BENCH_DSN`` is the
recording server's DSN. Each gunicorn worker imports this module, so each worker inits.
"""

from __future__ import annotations

import os


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


_SDK = os.environ.get("BENCH_WSGI_SDK", "bare")
_DSN = os.environ.get("BENCH_DSN", "")
_SESSIONS = os.environ.get("BENCH_SESSIONS", "on") == "on"  # request-mode session tracking

if _SDK == "releasetag":
    import releasetag
    from releasetag.integrations.wsgi import ReleasetagMiddleware

    releasetag.init(
        _DSN,
        release="bench@1.0",
        environment="bench",
        session_mode="request" if _SESSIONS else "off",
    )
    app = ReleasetagMiddleware(hello)
elif _SDK == "sentry_sdk":
    import sentry_sdk
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    sentry_sdk.init(_DSN, release="bench@1.0", environment="bench", auto_session_tracking=_SESSIONS)
    app = SentryWsgiMiddleware(hello)
else:
    app = hello

_TIMING_DIR = os.environ.get("BENCH_TIMING_DIR")
if _TIMING_DIR:
    # Time spent inside the (wrapped) app per request: the call, each next() of its body
    # and close(), not gunicorn's own work between them. Requests alternate between session
    # tracking on and off (each SDK's own switch), so both figures come from the same
    # workers under the same load. Each worker writes its totals to
    # BENCH_TIMING_DIR/<pid>.json when it exits.
    import atexit
    import json
    import time

    _totals = {"on": [0, 0], "off": [0, 0]}  # ns, requests
    _inner = app

    def _switch():
        if _SDK == "releasetag":
            sessions = releasetag.get_client().sessions

            def switch(on):
                sessions.requests = on

            return switch
        if _SDK == "sentry_sdk":
            options = sentry_sdk.get_client().options

            def switch(on):
                options["auto_session_tracking"] = on

            return switch
        return lambda on: None

    _set_tracking = _switch()
    _turn = [False]

    class _TimedBody:
        def __init__(self, body, ns, mode):
            self.body, self.ns, self.mode = body, ns, mode

        def __iter__(self):
            clock = time.perf_counter_ns
            start = clock()
            iterator = iter(self.body)
            self.ns += clock() - start
            while True:
                start = clock()
                try:
                    chunk = next(iterator)
                except StopIteration:
                    self.ns += clock() - start
                    return
                self.ns += clock() - start
                yield chunk

        def close(self):
            start = time.perf_counter_ns()
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
            total = _totals[self.mode]
            total[0] += self.ns + time.perf_counter_ns() - start
            total[1] += 1

    def app(environ, start_response):  # type: ignore[no-redef]
        on = _turn[0] = not _turn[0]
        _set_tracking(on)
        start = time.perf_counter_ns()
        body = _inner(environ, start_response)
        return _TimedBody(body, time.perf_counter_ns() - start, "on" if on else "off")

    def _write_totals():
        with open(os.path.join(_TIMING_DIR, f"{os.getpid()}.json"), "w") as fh:
            json.dump(_totals, fh)

    atexit.register(_write_totals)
