"""Child of bench/scn_logs.py: the app thread's cost of one Sentry Log, and an outage.

    python bench/_child_logs.py MODE SDK DSN N      MODE: logging | logger
    python bench/_child_logs.py outage SDK PORT N   (N records while nothing listens on PORT)

SDK: bare | releasetag | sentry_sdk.

``logging``: ``logger.info("order %s paid", i)`` through the logging integration with logs
enabled; ``logger``: ``<sdk>.logger.info("order {order_id} paid", order_id=i)``. Calls run in
batches of 100 (the batch size of both SDKs), timed; the SDK flushes between batches, untimed.
Prints ``RESULT {"us": median per call}``.

``outage``: N records through the logging integration while the server is down, then the
recording server starts on PORT once 30 s have passed since the first record; the SDK flushes
(60 s at most) and the child prints how many logs the server received and the SDK's own count
of what it dropped.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time

BATCH = 100
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _init(sdk: str, dsn: str):
    if sdk == "releasetag":
        import releasetag

        releasetag.init(dsn, release="bench@1.0", environment="bench", enable_logs=True)
        return releasetag
    if sdk == "sentry_sdk":
        import sentry_sdk

        sentry_sdk.init(dsn, release="bench@1.0", environment="bench", enable_logs=True)
        return sentry_sdk
    return None


def _app_logger() -> logging.Logger:
    logger = logging.getLogger("bench.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


def timed(mode: str, sdk_name: str, dsn: str, n: int) -> None:
    sdk = _init(sdk_name, dsn)
    logger = _app_logger()
    if mode == "logging":
        call = lambda i: logger.info("order %s paid", i)  # noqa: E731
    elif sdk is not None:
        direct = sdk.logger
        call = lambda i: direct.info("order {order_id} paid", order_id=i)  # noqa: E731
    else:
        call = lambda i: None  # noqa: E731
    for i in range(BATCH):  # warm up
        call(i)
    if sdk is not None:
        sdk.flush(30)
    per_call = []
    for start in range(0, n, BATCH):
        t0 = time.perf_counter()
        for i in range(start, start + BATCH):
            call(i)
        per_call.append((time.perf_counter() - t0) / BATCH)
        if sdk is not None:
            sdk.flush(30)
    print("RESULT " + json.dumps({"us": statistics.median(per_call) * 1e6}))


def outage(sdk_name: str, port: int, n: int) -> None:
    sdk = _init(sdk_name, f"http://key@127.0.0.1:{port}/1")
    logger = _app_logger()
    start = time.monotonic()
    for i in range(n):
        logger.info("order %s paid", i)
    time.sleep(max(0.0, 30.0 - (time.monotonic() - start)))
    sys.path.insert(0, ROOT)
    from tests.support.recorder import Recorder

    recorder = Recorder(port)
    try:
        assert sdk is not None
        flushed = sdk.flush(60)
        stats = sdk.delivery_stats() if sdk_name == "releasetag" else {}
        received = 0
        for envelope in recorder.envelopes():
            for item in envelope.items:
                if item.type == "log":
                    received += len(item.json()["items"])
    finally:
        recorder.stop()
    dropped = stats.get("dropped") if stats else None
    print("RESULT " + json.dumps({"delivered": received, "flushed": flushed, "dropped": dropped}))


if __name__ == "__main__":
    if sys.argv[1] == "outage":
        outage(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        timed(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
