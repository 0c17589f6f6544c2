"""Sustained ingest into ``releasetag serve`` from 8 concurrent senders: events/s and latency.

Starts the collector as a subprocess in a temporary data folder, then 8 sender threads each
keep one HTTP/1.1 connection and post typical error envelopes (an exception with a 10-frame
stack trace, tags, release, environment) for ``--seconds``. Every event is committed to SQLite
before its 200 answer, so the figures include the durable write. Goal: >= 500 events/s and
p99 < 50 ms on a 2-core machine.

    python bench/bench_collector_ingest.py [--senders 8] [--seconds 10] [--json]
    python bench/bench_collector_ingest.py --worst-js 2000 4000   # issue 24.3's worst event
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import List

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope

_PLACEHOLDER = b"f" * 32


def make_event() -> dict:
    frames = [
        {
            "filename": f"app/module{i}.py",
            "module": f"app.module{i}",
            "function": f"f{i}",
            "lineno": 10 + i,
            "context_line": f"    return f{i + 1}(x)",
            "in_app": True,
            "pre_context": ["", "def f(x):"],
            "post_context": [""],
            "vars": {"x": "'value'", "i": str(i)},
        }
        for i in range(10)
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "release": "bench@1.0.0",
        "environment": "production",
        "tags": {"region": "eu", "customer": "acme"},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad value",
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
    }


def make_js_event(debug_id: str, positions: list) -> dict:
    """A minified JS error: 10 frames in one uploaded file, named by its debug ID."""
    frames = [
        {"filename": "/srv/app.min.js", "function": f"a{n}", "lineno": line, "colno": col,
         "in_app": True}
        for n, (line, col) in positions
    ]  # fmt: skip
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "javascript",
        "level": "error",
        "release": "bench@1.0.0",
        "environment": "production",
        "exception": {
            "values": [{"type": "Error", "value": "boom", "stacktrace": {"frames": frames}}]
        },
        "debug_meta": {"images": [{"type": "sourcemap", "code_file": "/srv/app.min.js",
                                   "debug_id": debug_id}]},
    }  # fmt: skip


def upload_js_app(info: dict, folder: str) -> dict:
    """Upload bench/scn_unminify.py's generated app with the real CLI; the event to send."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.scn_unminify import _position, write_app

    js, mp, debug_id, text = write_app(folder)
    env = dict(os.environ, SENTRY_URL=info["url"], SENTRY_AUTH_TOKEN=info["token"],
               SENTRY_ORG=info["org"], SENTRY_PROJECT=info["project"])  # fmt: skip
    cmd = [sys.executable, "-m", "releasetag", "sourcemaps", "upload", "-r", "bench@1.0.0", js, mp]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
    return make_js_event(debug_id, [(n, _position(text, n)) for n in range(0, 400, 40)])


def resolved_fraction(info: dict) -> float:
    """Whether the collector resolved the last stored event's frames (1.0: all)."""
    conn = http.client.HTTPConnection("127.0.0.1", Dsn.parse(info["dsn"]).port, timeout=30)
    auth = {"Authorization": f"Bearer {info['token']}"}
    base = f"/api/0/projects/{info['org']}/{info['project']}/events/"
    conn.request("GET", base + "?limit=1", headers=auth)
    (latest,) = json.loads(conn.getresponse().read())[:1]
    conn.request("GET", base + latest["id"] + "/", headers=auth)
    event = json.loads(conn.getresponse().read())
    conn.close()
    frames = event["payload"]["exception"]["values"][0]["stacktrace"]["frames"]
    done = [f for f in frames if (f.get("data") or {}).get("resolution", {}).get("resolved")]
    return len(done) / len(frames)


def sender(
    dsn: Dsn, stop_at: float, latencies: List[float], errors: List[str], event=None, chunked=False
) -> None:
    conn = http.client.HTTPConnection(dsn.host, dsn.port, timeout=10)
    path = f"/api/{dsn.project_id}/envelope/"
    headers = {"X-Sentry-Auth": dsn.auth_header(), "Content-Type": "application/x-sentry-envelope"}
    # One typical envelope, its event id swapped per request (same length, so the item
    # length stays right): the senders spend their CPU on sending, not on building events.
    template = event_envelope(
        dict(event or make_event(), event_id=_PLACEHOLDER.decode())
    ).serialize()
    while time.monotonic() < stop_at:
        body = template.replace(_PLACEHOLDER, uuid.uuid4().hex.encode())
        start = time.perf_counter()
        try:
            if chunked:  # two chunks, as a streaming client sends them
                half = len(body) // 2
                parts = iter([body[:half], body[half:]])
                conn.request("POST", path, parts, headers, encode_chunked=True)
            else:
                conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection(dsn.host, dsn.port, timeout=10)
            continue
        elapsed = time.perf_counter() - start
        if resp.status == 200:
            latencies.append(elapsed)
        else:
            errors.append(f"HTTP {resp.status}")
    conn.close()


def stored_events(info: dict) -> int:
    """How many events the collector reports for the bench release (every 200 must be there)."""
    conn = http.client.HTTPConnection("127.0.0.1", Dsn.parse(info["dsn"]).port, timeout=30)
    conn.request(
        "GET",
        f"/api/0/organizations/{info['org']}/releases/bench@1.0.0/",
        headers={"Authorization": f"Bearer {info['token']}"},
    )
    data = json.loads(conn.getresponse().read())
    conn.close()
    return int(data.get("eventCount", 0))


def worst_js(info: dict, folder: str, files: int, frames: int) -> dict:
    """Issue 24.3's worst case: a release of ``files`` uploaded files, then one event whose
    ``frames`` JS frames each name a file the release does not have (only the public key is
    needed to send it). Seconds until the collector answered it (stored, with reasons)."""
    site = os.path.join(folder, "worst")
    os.makedirs(site)
    for n in range(files):
        with open(os.path.join(site, f"chunk-{n:05d}.{n * 7919 % 99991:05x}.min.js"), "w") as fh:
            fh.write(f"var c{n};\n")
    env = dict(os.environ, SENTRY_URL=info["url"], SENTRY_AUTH_TOKEN=info["token"],
               SENTRY_ORG=info["org"], SENTRY_PROJECT=info["project"])  # fmt: skip
    cmd = [sys.executable, "-m", "releasetag", "sourcemaps", "upload", "-r", "bench@1.0.0",
           "--no-rewrite", "-u", "https://cdn.example/static", site]  # fmt: skip
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
    frame_list = [{"abs_path": f"https://cdn.example/assets/u{n}/v{n * 31}.js", "lineno": 1,
                   "colno": 5, "function": "a"} for n in range(frames)]  # fmt: skip
    event = dict(make_event(), platform="javascript")
    event["exception"]["values"][0]["stacktrace"]["frames"] = frame_list
    dsn = Dsn.parse(info["dsn"])
    conn = http.client.HTTPConnection(dsn.host, dsn.port, timeout=3600)
    headers = {"X-Sentry-Auth": dsn.auth_header(), "Content-Type": "application/x-sentry-envelope"}
    start = time.perf_counter()
    conn.request("POST", f"/api/{dsn.project_id}/envelope/", event_envelope(event).serialize(),
                 headers)  # fmt: skip
    status = conn.getresponse().status
    elapsed = time.perf_counter() - start
    conn.close()
    return {"worst_js_s": round(elapsed, 3), "status": status, "files": files, "frames": frames,
            "stored": stored_events(info)}  # fmt: skip


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--js", action="store_true", help="minified JS events resolved through an uploaded bundle"
    )
    parser.add_argument(
        "--worst-js",
        nargs=2,
        type=int,
        metavar=("FILES", "FRAMES"),
        help="one event of FRAMES unknown JS files against a release of FILES files: seconds",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [sys.executable, "-m", "releasetag", "serve", "--port", "0", "--data", data, "--json"],
            stdout=subprocess.PIPE,
        )
        try:
            info = json.loads(proc.stdout.readline())
            dsn = Dsn.parse(info["dsn"])
            if args.worst_js:
                print(json.dumps(worst_js(info, data, *args.worst_js)))
                return 0
            event = upload_js_app(info, data) if args.js else None
            latencies: List[float] = []
            errors: List[str] = []
            start = time.monotonic()
            stop_at = start + args.seconds
            threads = [
                threading.Thread(target=sender, args=(dsn, stop_at, latencies, errors, event))
                for _ in range(args.senders)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - start
            stored = stored_events(info)
            resolved = resolved_fraction(info) if args.js else None
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    result = {
        "senders": args.senders,
        "seconds": round(wall, 2),
        "events": len(latencies),
        "stored": stored,
        "errors": len(errors),
        "events_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(max(latencies, default=0) * 1000, 2),
        "resolved": resolved,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>13}: {value}")
        ok = result["events_per_s"] >= 500 and result["p99_ms"] < 50 and stored == len(latencies)
        print(f"{'goal':>13}: {'met' if ok else 'NOT met'} (>= 500 events/s, p99 < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
