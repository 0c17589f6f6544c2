"""Child of bench/scn_logging_error.py: per-call cost of ``logger.error`` producing an event.

    python bench/_child_logging_error.py SDK DSN N       SDK: bare | releasetag | sentry_sdk

Two measurements of ``logger.error("payment %s failed", id)``, only the calls timed:
- ``us``: N single calls, the SDK flushed after each one outside the timed region (the app
  thread's own cost, no delivery running; as capture_* in bench/_child_core.py); median.
- ``batch_us``: N calls in batches of 50, flushed between batches (untimed): the delivery
  thread runs during the batch and competes for the GIL, as in an app logging errors in a
  burst; per call, median batch. Flushing keeps either SDK from dropping events.
Prints ``RESULT {"us": ..., "batch_us": ...}``.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time

BATCH = 50


def main(sdk: str, dsn: str, n: int) -> None:
    flush = None
    if sdk == "releasetag":
        import releasetag

        releasetag.init(dsn, release="bench@1.0", environment="bench")
        flush = releasetag.flush
    elif sdk == "sentry_sdk":
        import sentry_sdk

        sentry_sdk.init(dsn, release="bench@1.0", environment="bench")
        flush = sentry_sdk.flush
    logger = logging.getLogger("bench.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())  # the bare app's logger: no output
    for i in range(BATCH):  # warm up (first event builds caches on both sides)
        logger.error("payment %s failed", i)
    if flush:
        flush(30)
    single = []
    for i in range(n):
        t0 = time.perf_counter()
        logger.error("payment %s failed", i)
        single.append(time.perf_counter() - t0)
        if flush:
            flush(30)
    per_call = []
    for start in range(0, n, BATCH):
        t0 = time.perf_counter()
        for i in range(start, start + BATCH):
            logger.error("payment %s failed", i)
        per_call.append((time.perf_counter() - t0) / BATCH)
        if flush:
            flush(30)
    print(
        "RESULT "
        + json.dumps(
            {"us": statistics.median(single) * 1e6, "batch_us": statistics.median(per_call) * 1e6}
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
