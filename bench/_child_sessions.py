"""Child process for the release-health scenarios (run by bench/scn_sessions.py).

Usage:
  python bench/_child_sessions.py time SDK DSN N
      ns per WSGI request (hello-world app called directly through the SDK's middleware)
      with session tracking on and off: loops of N requests alternate between the two in
      this one process (the SDK's own switch), the best loop of each counts
  python bench/_child_sessions.py memory SDK DSN N
      resident memory (KiB) after N/10 and after N requests, sessions on, and the growth
      of live Python memory blocks in between (after a full collection each time)
SDK is releasetag, sentry_sdk or bare. Prints ``RESULT {json}`` as its last line.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench_integrations import _hello, wsgi_request_op  # the same request as integrations.wsgi


def emit(data) -> None:
    sys.stdout.write("RESULT " + json.dumps(data) + "\n")
    sys.stdout.flush()


def make_app(sdk: str, tracking: bool, dsn: str):
    if sdk == "releasetag":
        import releasetag
        from releasetag.integrations.wsgi import ReleasetagMiddleware

        releasetag.init(
            dsn,
            release="bench@1.0",
            environment="bench",
            session_mode="request" if tracking else "off",
        )
        return ReleasetagMiddleware(_hello)
    if sdk == "sentry_sdk":
        import sentry_sdk
        from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

        sentry_sdk.init(
            dsn, release="bench@1.0", environment="bench", auto_session_tracking=tracking
        )
        return SentryWsgiMiddleware(_hello)
    return _hello


def tracking_switch(sdk: str):
    """A function turning request-mode tracking on or off in the running SDK."""
    if sdk == "releasetag":
        import releasetag

        sessions = releasetag.get_client().sessions

        def switch(on: bool) -> None:
            sessions.requests = on  # what session_mode="off" leaves False

        return switch
    import sentry_sdk

    options = sentry_sdk.get_client().options

    def switch(on: bool) -> None:
        options["auto_session_tracking"] = on  # read by track_session() per request

    return switch


def rss_kib() -> int:
    """Resident memory after a full collection (garbage waiting for the collector is not
    growth)."""
    import gc

    gc.collect()
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(argv) -> None:
    command = argv[0]
    if command == "time":
        sdk, dsn, n = argv[1], argv[2], int(argv[3])
        op = wsgi_request_op(make_app(sdk, True, dsn))
        switch = tracking_switch(sdk)
        for _ in range(n // 5):
            op()
        best = {True: float("inf"), False: float("inf")}
        for _ in range(9):
            for tracking in (True, False):
                switch(tracking)
                start = time.perf_counter()
                for _ in range(n):
                    op()
                best[tracking] = min(best[tracking], (time.perf_counter() - start) / n)
        emit({"on": best[True] * 1e9, "off": best[False] * 1e9})
    elif command == "memory":
        sdk, dsn, n = argv[1], argv[2], int(argv[3])
        op = wsgi_request_op(make_app(sdk, True, dsn))
        for _ in range(n // 10):
            op()
        early, blocks = rss_kib(), sys.getallocatedblocks()
        start = time.perf_counter()
        for _ in range(n - n // 10):
            op()
        seconds = time.perf_counter() - start
        late = rss_kib()  # collects first
        emit(
            {
                "early": early,
                "late": late,
                "blocks": sys.getallocatedblocks() - blocks,
                "seconds": seconds,
            }
        )
    os._exit(0)  # no exit flush: the figures are taken


if __name__ == "__main__":
    main(sys.argv[1:])
