"""What the per-issue counts (schema step 8, collector/db/issue_counts.py) cost at ingest.

    python -m bench.bench_issue_counts [--events N --repeats N]

Stores N error events one by one through ``Store.insert_event`` in this process (50 issues,
a new or known user of 1,000, 20 releases, 2 environments, 5 servers), each in its own
transaction (no group commit: the worst case), two ways in alternating rounds: as step 8
stores them, and as before it (no counts, and the index ``events_group_received`` that step
8 drops). Prints the median CPU time per event and the pages written to the WAL per event
(exact: the WAL is not checkpointed during a round), and the ratios step 8 / before. There is
no reference tool (sentry-sdk has no collector); the end-to-end figure over HTTP is
``bench/bench_collector_ingest.py``."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, List, Tuple
from unittest import mock

from releasetag.collector.db import issue_counts
from releasetag.collector.db.store import Store
from releasetag.collector.ingest import summarize

WAL_FRAME = 4096 + 24  # a page and its frame header


def make_events(n: int, seed: int = 3) -> List[Dict[str, Any]]:
    rnd = random.Random(seed)
    frames = [
        {"filename": f"app/m{i}.py", "function": f"f{i}", "lineno": i, "in_app": True}
        for i in range(10)
    ]
    return [
        {
            "event_id": "%032x" % rnd.getrandbits(128),
            "level": "error",
            "platform": "python",
            "release": f"1.{rnd.randrange(20)}",
            "environment": rnd.choice(["production", "staging"]),
            "server_name": f"web-{k % 5}",
            "user": {"id": str(rnd.randrange(1000))},
            "exception": {
                "values": [
                    {
                        "type": f"E{rnd.randrange(50)}",
                        "value": "bad",
                        "stacktrace": {"frames": frames},
                    }
                ]
            },
        }
        for k in range(n)
    ]


def one_round(events: List[Dict[str, Any]], counts: bool) -> Tuple[float, float]:
    """(CPU microseconds, WAL pages) per event, storing ``events`` in a new database."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.db")
        store = Store(path)
        project = store.ensure_project("p", "p", "k" * 32)["id"]
        conn = store._conn()  # this thread's connection: insert_event writes through it
        if not counts:
            conn.execute("CREATE INDEX events_group_received ON events(group_id, received)")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        with mock.patch.object(issue_counts, "record", issue_counts.record if counts else _none):
            start = time.process_time()
            for event in events:
                store.insert_event(project, event, summarize(event, event["event_id"]))
            cpu = time.process_time() - start
        wal = os.path.getsize(path + "-wal")
        store.close()
    return cpu / len(events) * 1e6, wal / WAL_FRAME / len(events)


def _none(*args: Any) -> None:
    return None


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    events = make_events(args.events)
    results: Dict[bool, List[Tuple[float, float]]] = {True: [], False: []}
    for n in range(args.repeats):
        for counts in (True, False) if n % 2 else (False, True):
            results[counts].append(one_round(events, counts))
    med = {
        k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
        for k, v in results.items()
    }
    for label, key in (("before step 8", False), ("step 8", True)):
        cpu, pages = med[key]
        print(f"{label:14} {cpu:7.0f} us CPU/event  {pages:6.2f} WAL pages/event")
    print(f"{'ratio':14} {med[True][0] / med[False][0]:7.2f}             "
          f"{med[True][1] / med[False][1]:6.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
