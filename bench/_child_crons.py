"""Child of bench/scn_crons.py: the cost per call of a cron-monitored function.

``python bench/_child_crons.py SDK DSN N``: SDK is releasetag, sentry_sdk or bare (the same
function undecorated); prints ``RESULT {"time": microseconds per call}``.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.harness import emit_result  # noqa: E402


def main(sdk: str, dsn: str, n: int) -> None:
    def job(x: int) -> int:
        return x + 1

    if sdk == "releasetag":
        import releasetag

        releasetag.init(dsn, release="b@1", default_integrations=False, transport_queue_size=4 * n)
        run = releasetag.monitor(monitor_slug="bench")(job)
    elif sdk == "sentry_sdk":
        import sentry_sdk
        from sentry_sdk.crons import monitor

        sentry_sdk.init(dsn, release="b@1", default_integrations=False, transport_queue_size=4 * n)
        run = monitor(monitor_slug="bench")(job)
    else:
        run = job
    for i in range(50):  # warm: the first check-in loads what sending needs
        run(i)
    if sdk != "bare":
        (releasetag if sdk == "releasetag" else sentry_sdk).flush()  # type: ignore[attr-defined]
    start = time.perf_counter()
    for i in range(n):
        run(i)
    elapsed = time.perf_counter() - start
    emit_result({"time": elapsed / n * 1e6})
    if sdk != "bare":
        (releasetag if sdk == "releasetag" else sentry_sdk).flush()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
