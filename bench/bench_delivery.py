"""Delivery benchmark: releasetag side by side with sentry-sdk, in the same run.

Every scenario runs each SDK in a fresh Python process against the same local recording
server (tests/support/recording_server.py) and counts the distinct event ids that arrived.

  burst       N capture_message calls as fast as the app can, then flush
  outage      the server is down for OUTAGE seconds while the app emits N events evenly
              over that time; then the server comes back on the same port
  throughput  N events captured in batches of 100 with a flush after each batch (so that
              no SDK drops anything); delivered events per second, and the slowest
              capture call (the app thread must not wait on the network)
  hung        the server accepts connections and never answers: 100 captures (the app
              thread must not wait) then flush(0.5) (must return within its timeout);
              the timings tests/core/test_delivery_basic.py used to assert

Run:  python bench/bench_delivery.py            (full: N=5000, 30 s outage)
      python bench/bench_delivery.py --quick    (N=1000, 5 s outage)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))

from tests.support.recorder import Recorder  # noqa: E402


# --- the app side (runs in a child process) -----------------------------------------------
def _init_sdk(sdk: str, dsn: str, spool: str, threads: int = 1) -> None:
    if sdk == "sentry-sdk":
        import sentry_sdk

        sentry_sdk.init(
            dsn=dsn,
            release="bench@1",
            default_integrations=False,
            auto_enabling_integrations=False,
            shutdown_timeout=2,
        )
    else:
        import releasetag
        from releasetag.transport.retry import RetryPolicy

        releasetag.init(
            dsn,
            release="bench@1",
            default_integrations=False,
            spool_dir=spool or None,
            shutdown_timeout=2,
            transport_threads=threads,
            retry_policy=RetryPolicy(backoff_max=5.0),
        )


def _capture(sdk: str, text: str) -> None:
    if sdk == "sentry-sdk":
        import sentry_sdk

        sentry_sdk.capture_message(text)
    else:
        import releasetag

        releasetag.capture_message(text)


def _flush(sdk: str, timeout: float) -> None:
    if sdk == "sentry-sdk":
        import sentry_sdk

        sentry_sdk.flush(timeout)
    else:
        import releasetag

        releasetag.flush(timeout)


def child(
    sdk: str, scenario: str, dsn: str, n: int, seconds: float, spool: str, threads: int = 1
) -> None:
    _init_sdk(sdk, dsn, spool, threads)
    out = {"captured": n}
    start = time.perf_counter()
    if scenario == "burst":
        for i in range(n):
            _capture(sdk, f"burst {i}")
        out["capture_seconds"] = time.perf_counter() - start
        _flush(sdk, 120)
    elif scenario == "outage":
        interval = seconds / n
        for i in range(n):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            _capture(sdk, f"outage {i}")
        print("EMITTED", flush=True)  # the parent brings the server back now
        sys.stdin.readline()
        _flush(sdk, 120)
    elif scenario == "throughput":
        calls = []
        for batch in range(0, n, 100):
            for i in range(batch, min(n, batch + 100)):
                t0 = time.perf_counter()
                _capture(sdk, f"tput {i}")
                calls.append(time.perf_counter() - t0)
            _flush(sdk, 60)
        calls.sort()
        out["capture_p50_us"] = calls[len(calls) // 2] * 1e6
        out["capture_p99_us"] = calls[int(len(calls) * 0.99)] * 1e6
        out["max_capture_ms"] = calls[-1] * 1000
    elif scenario == "hung":
        calls = []
        for i in range(100):
            t0 = time.perf_counter()
            _capture(sdk, f"hung {i}")
            calls.append(time.perf_counter() - t0)
        calls.sort()
        out["capture_p99_us"] = calls[98] * 1e6
        out["max_capture_ms"] = calls[-1] * 1000
        t0 = time.perf_counter()
        _flush(sdk, 0.5)
        out["flush_seconds"] = time.perf_counter() - t0
    out["seconds"] = time.perf_counter() - start
    if sdk == "releasetag":
        import releasetag

        out["stats"] = releasetag.delivery_stats()
    print("RESULT " + json.dumps(out), flush=True)


# --- the driver -------------------------------------------------------------------------
def _count(rec: Recorder) -> tuple:
    ids = [e.get("event_id") for e in rec.events()]
    return len(set(ids)), len(ids) - len(set(ids))


def run_one(sdk: str, scenario: str, n: int, seconds: float, spool: bool, threads: int = 1) -> dict:
    rec = Recorder()
    port = rec.port
    spool_dir = tempfile.mkdtemp(prefix="rt-bench-spool-") if spool else ""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), ROOT]))
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        sdk,
        scenario,
        rec.dsn(),
        str(n),
        str(seconds),
        spool_dir,
        str(threads),
    ]
    try:
        if scenario == "outage":
            rec.stop()
        if scenario == "hung":
            rec.respond({"path": "/envelope/", "hang": True})
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=env, text=True
        )
        result = None
        for line in proc.stdout:
            if line.startswith("EMITTED"):
                rec = Recorder(port)
                proc.stdin.write("go\n")
                proc.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(300)
        time.sleep(0.3)
        delivered, dups = _count(rec)
        result = result or {}
        result.update(delivered=delivered, duplicates=dups)
        return result
    finally:
        rec.stop()
        if spool_dir:
            shutil.rmtree(spool_dir, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sdk, scenario, dsn, n, seconds, spool, threads = sys.argv[2:9]
        child(sdk, scenario, dsn, int(n), float(seconds), spool, int(threads))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N=1000 and a 5 s outage")
    ap.add_argument("--n", type=int, help="events per scenario (default 5000, quick 1000)")
    ap.add_argument("--outage", type=float, help="outage seconds (default 30, quick 5)")
    ap.add_argument("--only", choices=["burst", "outage", "throughput", "hung"], action="append")
    ap.add_argument("--repeat", type=int, default=3, help="throughput rounds (median)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    n = args.n or (1000 if args.quick else 5000)
    outage = args.outage or (5.0 if args.quick else 30.0)
    scenarios = args.only or ["burst", "outage", "throughput", "hung"]
    runs = [
        ("releasetag", True, "spool on", 1),
        ("releasetag", False, "spool off", 1),
        ("sentry-sdk", False, "", 1),
    ]
    # throughput also with two requests in flight (transport_threads=2, arrival order free)
    tput_runs = runs + [("releasetag", False, "threads=2", 2)]
    results = []
    for scenario in scenarios:
        repeat = args.repeat if scenario == "throughput" else 1
        for round_ in range(repeat):  # rounds interleave the SDKs: load changes hit all
            # and each round starts with a different SDK (the first run of a round differs)
            chosen = tput_runs if scenario == "throughput" else runs
            for sdk, spool, label, threads in (
                chosen[round_ % len(chosen) :] + chosen[: round_ % len(chosen)]
            ):
                count = min(n, 2000) if scenario == "throughput" else n
                count = 100 if scenario == "hung" else count  # none answered: 1 received
                r = run_one(sdk, scenario, count, outage, spool, threads)
                r.update(scenario=scenario, sdk=sdk, spool=label, round=round_)
                results.append(r)
                extra = ""
                if scenario == "throughput":
                    r["events_per_second"] = (
                        r["delivered"] / r["seconds"] if r.get("seconds") else 0
                    )
                    extra = (
                        f"  {r['events_per_second']:.0f} ev/s, capture p50 "
                        f"{r.get('capture_p50_us', 0):.0f} us p99 "
                        f"{r.get('capture_p99_us', 0):.0f} us"
                    )
                elif scenario == "burst":
                    extra = f"  capture loop {r.get('capture_seconds', 0):.2f} s"
                elif scenario == "hung":
                    extra = (
                        f"  capture p99 {r.get('capture_p99_us', 0):.0f} us, max "
                        f"{r.get('max_capture_ms', 0):.1f} ms; flush(0.5) took "
                        f"{r.get('flush_seconds', 0):.2f} s"
                    )
                print(
                    f"{scenario:<10} {sdk:<10} {label:<9} delivered "
                    f"{r['delivered']:>5}/{count} dup {r['duplicates']} in "
                    f"{r.get('seconds', 0):.1f} s{extra}",
                    flush=True,
                )
    tput: dict = {}
    for r in results:
        if r["scenario"] == "throughput":
            tput.setdefault((r["sdk"], r["spool"]), []).append(r.get("events_per_second") or 0)
    medians = {k: statistics.median(v) for k, v in tput.items()}
    base = medians.get(("sentry-sdk", ""))
    for (sdk, label), value in medians.items():
        print(f"throughput median {sdk} {label}: {value:.0f} ev/s")
    if base:
        for (sdk, label), value in medians.items():
            if sdk == "releasetag" and value:
                print(f"throughput ratio releasetag ({label}) / sentry-sdk: {value / base:.2f}x")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
