"""Page render times of the collector at size: 100,000 events, 2,000 issues, 200 releases.

    python -m bench.bench_pages [--events N --issues N --releases N --repeats N]

Builds the database (bench/page_data.py) in a temporary folder, then renders each page
through the collector's WSGI app in this process (no network: the render itself) and prints
the median and worst milliseconds per page against the 100 ms goal. There is no reference
tool to set beside it (sentry-sdk has no collector); the goal is the figure."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, List
from urllib.parse import unquote

from bench.page_data import PAGES, build
from releasetag.collector.app import make_app

GOAL_MS = 100.0


def render(app: Any, path: str) -> int:
    env: Dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": unquote(path.split("?")[0]),
        "QUERY_STRING": path.partition("?")[2],
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    status: List[str] = []
    b"".join(app(env, lambda s, h: status.append(s)))
    return int(status[0].split()[0])


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--issues", type=int, default=2_000)
    ap.add_argument("--releases", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = build(os.path.join(tmp, "c.db"), args.events, args.issues, args.releases)
        print(f"built {args.events} events, {args.issues} issues, {args.releases} releases "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        app = make_app(store, "local", "t" * 32)
        worst_ok = True
        for path in PAGES:
            assert render(app, path) == 200, path
            samples = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                render(app, path)
                samples.append((time.perf_counter() - t) * 1000)
            med = statistics.median(samples)
            ok = max(samples) < GOAL_MS
            worst_ok &= ok
            print(f"{path:60} median {med:7.1f} ms  worst {max(samples):7.1f} ms  "
                  f"{med / GOAL_MS:5.2f} of goal  {'ok' if ok else 'MISSED'}")  # fmt: skip
        store.close()
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
