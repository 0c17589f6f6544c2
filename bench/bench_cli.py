"""Wall time of ``releasetag releases new`` vs ``sentry-cli releases new``.

Both run as fresh processes against the same local recording server (tests/support), which
answers the release POST at once; runs alternate so machine noise hits both alike.

    python bench/bench_cli.py [--runs 15] [--json]

Prints the median and min of each and the ratio releasetag / sentry-cli.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.support.recorder import Recorder  # noqa: E402

RELEASE = {"version": "1.0", "dateCreated": "2024-01-01T00:00:00Z", "projects": []}


def _time(cmd, env, cwd=None):
    """(wall seconds, CPU seconds user+sys) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, timeout=60, cwd=cwd)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode:
        raise SystemExit(f"{cmd[0]} failed: {res.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    sentry_cli = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
    releasetag = os.path.join(os.path.dirname(sys.executable), "releasetag")
    rec = Recorder()
    try:
        rec.respond({"path": "/releases/", "status": 201, "body": RELEASE})
        # PYTHONDONTWRITEBYTECODE would make every run recompile every module: an installed
        # package has its .pyc files, so measure with them (the warm-up run writes them).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SENTRY_", "RELEASETAG_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            SENTRY_URL=rec.url + "/",
            SENTRY_AUTH_TOKEN="bench-token",
            SENTRY_ORG="acme",
            SENTRY_PROJECT="web",
            SENTRY_DISABLE_UPDATE_CHECK="1",
            HOME=ROOT,
        )
        cmds = {
            "releasetag": [releasetag, "releases", "new", "1.0"],
            "sentry-cli": [sentry_cli, "releases", "new", "1.0"],
        }
        times = {name: [] for name in cmds}
        cpus = {name: [] for name in cmds}
        for name, cmd in cmds.items():  # warm-up (page cache, pyc files)
            _time(cmd, env)
        for _ in range(opts.runs):
            for name, cmd in cmds.items():
                wall, cpu = _time(cmd, env)
                times[name].append(wall)
                cpus[name].append(cpu)
    finally:
        rec.stop()
    result = {
        name: {
            "median_ms": round(statistics.median(t) * 1000, 1),
            "min_ms": round(min(t) * 1000, 1),
            "cpu_median_ms": round(statistics.median(cpus[name]) * 1000, 1),
            "runs": len(t),
        }
        for name, t in times.items()
    }
    result["ratio_median"] = round(
        result["releasetag"]["median_ms"] / result["sentry-cli"]["median_ms"], 2
    )
    result["ratio_cpu_median"] = round(
        result["releasetag"]["cpu_median_ms"] / max(result["sentry-cli"]["cpu_median_ms"], 0.1), 2
    )
    result["load_average"] = os.getloadavg()[0]
    if opts.json:
        print(json.dumps(result))
        return
    for name in cmds:
        r = result[name]
        print(
            f"{name:<11} wall median {r['median_ms']:7.1f} ms  min {r['min_ms']:7.1f} ms  "
            f"CPU median {r['cpu_median_ms']:7.1f} ms  ({r['runs']} runs)"
        )
    print(
        f"ratio releasetag / sentry-cli: wall {result['ratio_median']}, "
        f"CPU {result['ratio_cpu_median']} (load average {result['load_average']:.1f})"
    )


if __name__ == "__main__":
    main()
