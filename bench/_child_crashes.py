"""Child process for bench/scn_crashes.py (one sample per process).

Usage: python bench/_child_crashes.py COMMAND DSN FOLDER
  header  time one crash record's opening (header write + faulthandler.enable), ms
  init    time init() with crash records on or off (5th argument: on|off|sentry), ms
  crash   init(), then a segfault (a null pointer read through ctypes)
  next    init() and flush(): the seconds until the crash event was delivered
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    command, dsn, folder = sys.argv[1:4]
    if command == "init" and sys.argv[4] == "sentry":
        import sentry_sdk

        start = time.perf_counter()
        sentry_sdk.init(dsn, release="bench@1")
        emit({"time": (time.perf_counter() - start) * 1000})
        return
    import releasetag

    if command == "init":
        switch = sys.argv[4] == "on"
        start = time.perf_counter()
        releasetag.init(dsn, release="bench@1", spool_dir=folder, native_crashes=switch)
        elapsed = time.perf_counter() - start
        releasetag.close(0)
        emit({"time": elapsed * 1000})
    elif command == "header":
        from releasetag import native_crashes

        client = releasetag.init(dsn, release="bench@1", spool_dir=folder)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            native_crashes.start(client)
            times.append(time.perf_counter() - start)
        times.sort()
        emit({"time": times[len(times) // 2] * 1000})
    elif command == "crash":
        import ctypes

        releasetag.init(dsn, release="bench@1", spool_dir=folder)
        ctypes.string_at(0)
    elif command == "next":
        start = time.perf_counter()
        releasetag.init(dsn, release="bench@2", spool_dir=folder)
        releasetag.flush(10)
        emit({"time": time.perf_counter() - start})


def emit(data: dict) -> None:
    import json

    sys.stdout.write("RESULT " + json.dumps(data) + "\n")


if __name__ == "__main__":
    main()
