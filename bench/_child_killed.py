"""Child process for bench/scn_killed.py (one sample per process).

Usage: python bench/_child_killed.py slot N
  slot  microseconds a sync-worker request call takes through releasetag's slot wrapper
        (method + path written to the worker's memory-mapped slot, then cleared) and without
        it (the same no-op handler called directly), each the median of 5 runs of N calls
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


class _Req:
    method = "GET"
    path = "/orders/17"


def _handler(self, listener, req, client, addr):
    return None


def _per_call(fn, n: int) -> float:
    req = _Req()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn(None, None, req, None, None)
        runs.append((time.perf_counter() - start) / n * 1e6)
    runs.sort()
    return runs[2]


def main() -> None:
    import mmap

    from releasetag.integrations import gunicorn

    n = int(sys.argv[2])
    fd, path = tempfile.mkstemp()
    os.ftruncate(fd, gunicorn.SLOT_SIZE)
    gunicorn._slot = gunicorn._Slot(mmap.mmap(fd, gunicorn.SLOT_SIZE))
    gunicorn._slot.meta = True
    wrapped = gunicorn._recording(_handler, 1)
    bare = _per_call(_handler, n)
    slot = _per_call(wrapped, n)
    os.close(fd)
    os.unlink(path)
    emit({"bare": bare, "slot": slot, "added": slot - bare})


def emit(data: dict) -> None:
    import json

    sys.stdout.write("RESULT " + json.dumps(data) + "\n")


if __name__ == "__main__":
    main()
