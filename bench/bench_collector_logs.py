"""Logs in ``releasetag serve`` (issue 26): log items ingested per second, a text query over
1,000,000 stored logs, and the server's memory while logging.

- ``ingest``: 4 senders each keep one HTTP/1.1 connection and post envelopes of one ``log``
  item with 100 logs (sentry-sdk's batch size and shape) for ``--seconds``; logs/s counts
  logs answered 200 and checks every one is stored. The server's RSS is sampled every second
  (flat memory: the last sample is close to the one after warm-up). Goal: >= 5,000 logs/s.
- ``query``: a database of ``--rows`` logs built directly with executemany (not through
  HTTP), then the newest 100 logs matching a word through the Web API (``dataset=logs``,
  the request sentry-cli's ``logs list`` makes), a rare word and a common one, with a
  release filter. Goal: < 100 ms.

    python bench/bench_collector_logs.py [--seconds 10] [--rows 1000000] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_collector_ingest import percentile  # noqa: E402
from releasetag.protocol.dsn import Dsn  # noqa: E402
from releasetag.protocol.envelope import Envelope, Item  # noqa: E402

WORDS = ("order", "payment", "cart", "user", "shipped", "declined", "retry", "cache", "db",
         "query", "slow", "fast", "gateway", "timeout", "session", "login")  # fmt: skip


def log_batch(n: int = 100) -> bytes:
    """An envelope of one log item with ``n`` logs, shaped as sentry-sdk sends them."""
    attrs = {
        "sentry.release": {"value": "bench@1.0.0", "type": "string"},
        "sentry.environment": {"value": "production", "type": "string"},
        "sentry.sdk.name": {"value": "sentry.python", "type": "string"},
        "logger.name": {"value": "shop.orders", "type": "string"},
        "sentry.message.template": {"value": "order {order} shipped to {user}", "type": "string"},
        "sentry.message.parameter.order": {"value": 1234, "type": "integer"},
        "sentry.message.parameter.user": {"value": "ann", "type": "string"},
    }
    now = time.time()
    logs = [
        {"timestamp": now, "level": "info", "body": f"order {i} shipped to ann",
         "trace_id": uuid.uuid4().hex, "severity_number": 9, "attributes": attrs}
        for i in range(n)
    ]  # fmt: skip
    env = Envelope({"sent_at": "2026-01-01T00:00:00Z"})
    env.add_item(Item({"type": "log", "item_count": n,
                       "content_type": "application/vnd.sentry.items.log+json"},
                      json.dumps({"items": logs}).encode()))  # fmt: skip
    return env.serialize()


def _sender(dsn: Dsn, stop_at: float, done: List[float], errors: List[str]) -> None:
    conn = http.client.HTTPConnection(dsn.host, dsn.port, timeout=30)
    path = f"/api/{dsn.project_id}/envelope/"
    headers = {"X-Sentry-Auth": dsn.auth_header(), "Content-Type": "application/x-sentry-envelope"}
    body = log_batch()
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status == 200:
            done.append(time.perf_counter() - start)
        else:
            errors.append(f"HTTP {resp.status}")


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _api(info: Dict[str, Any], path: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", Dsn.parse(info["dsn"]).port, timeout=60)
    conn.request("GET", path, headers={"Authorization": f"Bearer {info['token']}"})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def _serve(data: str) -> "tuple[subprocess.Popen[bytes], Dict[str, Any]]":
    proc = subprocess.Popen(
        [sys.executable, "-m", "releasetag", "serve", "--port", "0", "--data", data, "--json"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def ingest(seconds: float, senders: int = 4) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        proc, info = _serve(data)
        try:
            dsn = Dsn.parse(info["dsn"])
            done: List[float] = []
            errors: List[str] = []
            start = time.monotonic()
            stop_at = start + seconds
            threads = [threading.Thread(target=_sender, args=(dsn, stop_at, done, errors))
                       for _ in range(senders)]  # fmt: skip
            for t in threads:
                t.start()
            rss = []
            while any(t.is_alive() for t in threads):
                rss.append(_rss_kb(proc.pid))
                time.sleep(1)
            wall = time.monotonic() - start
            count = _count(data)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    logs = len(done) * 100
    return {
        "logs_per_s": round(logs / wall, 1),
        "batches": len(done),
        "stored": count,
        "all_stored": count == logs,
        "errors": len(errors),
        "batch_p99_ms": round(percentile(done, 99) * 1000, 2),
        "rss_mb_after_2s": round(rss[min(2, len(rss) - 1)] / 1024, 1) if rss else None,
        "rss_mb_end": round(rss[-1] / 1024, 1) if rss else None,
    }


def _count(data: str) -> int:
    import sqlite3

    conn = sqlite3.connect(os.path.join(data, "collector.sqlite3"))
    try:
        return int(conn.execute("SELECT count(*) FROM logs").fetchone()[0])
    finally:
        conn.close()


def build(data: str, rows: int) -> float:
    """A collector database of ``rows`` logs written with executemany; seconds it took."""
    from releasetag.collector.db.logs import store_logs
    from releasetag.collector.db.store import Store

    start = time.perf_counter()
    store = Store(os.path.join(data, "collector.sqlite3"))
    rnd = random.Random(7)
    attrs = json.dumps({"logger.name": {"value": "shop", "type": "string"}})
    base = time.time() - 86400
    with store.write() as c:
        batch = []
        for i in range(rows):
            words = " ".join(rnd.choice(WORDS) for _ in range(6))
            rare = " needle" if i % 10_000 == 0 else ""
            batch.append((uuid.uuid4().hex, 1, base, base + i * 0.05, f"bench@{i % 10}",
                          "production", "info", 9, "shop", None, None,
                          f"{words} {i}{rare}", attrs))  # fmt: skip
            if len(batch) == 50_000:
                store_logs(c, batch)
                batch = []
        if batch:
            store_logs(c, batch)
    store.close()
    return time.perf_counter() - start


def query(rows: int, repeats: int = 7) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        built = build(data, rows)
        proc, info = _serve(data)
        try:
            base = (f"/api/0/organizations/{info['org']}/events/?dataset=logs"
                    "&field=sentry.item_id&field=trace&field=severity&field=timestamp"
                    "&field=message&per_page=100&statsPeriod=90d&sort=-timestamp"
                    "&query=")  # fmt: skip
            out: Dict[str, Any] = {"rows": rows, "build_s": round(built, 1)}
            for name, q in (("rare_word", "needle"), ("common_word", "payment"),
                            ("release_and_word", "release:bench@3 declined")):  # fmt: skip
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    found = _api(info, base + f"project:local%20{q.replace(' ', '%20')}")["data"]
                    times.append(time.perf_counter() - start)
                out[f"{name}_ms"] = round(sorted(times)[len(times) // 2] * 1000, 1)
                out[f"{name}_found"] = len(found)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"ingest": ingest(args.seconds), "query": query(args.rows),
              "cpus": os.cpu_count(), "python": sys.version.split()[0]}  # fmt: skip
    if args.json:
        print(json.dumps(result))
        return 0
    print(json.dumps(result, indent=2))
    ing, qry = result["ingest"], result["query"]
    worst = max(v for k, v in qry.items() if k.endswith("_ms"))
    print(f"ingest goal (>= 5,000 logs/s): {'met' if ing['logs_per_s'] >= 5000 else 'NOT met'}")
    print(f"query goal (< 100 ms over {args.rows} logs): {'met' if worst < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
