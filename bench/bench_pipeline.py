"""Benchmark: a whole release pipeline step, releasetag vs sentry-cli, in one run.

Each tool runs, against the same local server (bench/chunk_server.py, answering the release,
repository and deploy endpoints as Sentry does), on its own fresh copy of the same app
(bench_artifacts.generate: 2,000 files, 1,000 minified JS + 1,000 maps, 200 MB by default):

    releases new  ->  releases set-commits --local  ->  sourcemaps inject  ->
    sourcemaps upload  ->  deploys new  ->  releases finalize

Rounds alternate which tool goes first; the server forgets its chunks before each tool, and
releasetag gets an empty bundle cache, so both upload everything. Reports the wall time of
each step and the total per tool, and the ratio releasetag / sentry-cli (issue 29 goal:
total <= 0.5x).

    python bench/bench_pipeline.py [--files 2000] [--mb 200] [--rounds 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench import chunk_server  # noqa: E402
from bench.bench_artifacts import generate  # noqa: E402

VERSION = "bench@1.0.0"
RELEASE = {
    "version": VERSION,
    "shortVersion": "1.0.0",
    "ref": None,
    "url": None,
    "dateCreated": "2026-01-01T00:00:00Z",
    "dateReleased": None,
    "commitCount": 0,
    "deployCount": 0,
    "lastCommit": None,
    "lastDeploy": None,
    "newGroups": 0,
    "projects": [{"slug": "web", "name": "web"}],
    "status": "open",
    "data": {},
    "authors": [],
}
DEPLOY = {"id": "1", "environment": "production", "name": None, "url": None,
          "dateStarted": None, "dateFinished": "2026-01-01T00:00:00Z"}  # fmt: skip


class Handler(chunk_server.Handler):
    """The chunk server, plus the release, repository and deploy answers of Sentry."""

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path.endswith("/repos/") or path.endswith("/commits/"):
            return self._json(200, [])
        if path.endswith("/previous-with-commits/"):
            return self._json(200, {})
        return super().do_GET()

    def do_POST(self):  # noqa: N802
        path = urlsplit(self.path).path
        if path.endswith("/deploys/"):
            self._body()
            return self._json(201, DEPLOY)
        if path.endswith("/releases/"):
            self._body()
            return self._json(201, RELEASE)
        return super().do_POST()

    def do_PUT(self):  # noqa: N802
        path = urlsplit(self.path).path
        if "/releases/" in path:
            self._body()
            return self._json(200, RELEASE)
        return super().do_POST()


def steps(tool: str, folder: str):
    """(step name, command) of one pipeline run."""
    if tool == "releasetag":
        base = [sys.executable, "-m", "releasetag"]
    else:
        base = [os.path.join(os.path.dirname(sys.executable), "sentry-cli")]
    return [
        ("releases new", base + ["releases", "new", VERSION]),
        ("set-commits", base + ["releases", "set-commits", VERSION, "--local",
                                "--initial-depth", "20"]),
        ("sourcemaps inject", base + ["sourcemaps", "inject", folder]),
        ("sourcemaps upload", base + ["sourcemaps", "upload", folder, "--release", VERSION]),
        ("deploys new", base + ["deploys", "new", "-r", VERSION, "-e", "production"]),
        ("releases finalize", base + ["releases", "finalize", VERSION]),
    ]  # fmt: skip


def timed(cmd, env) -> float:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=out, stderr=err, timeout=1800)
        wall = time.perf_counter() - start
        if proc.returncode:
            err.seek(0)
            raise SystemExit(
                f"{' '.join(cmd[:4])} failed ({proc.returncode}): {err.read()[-800:]!r}"
            )
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keep", help="reuse/keep the generated app in this folder")
    ap.add_argument("--json", help="write the figures to this file")
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="releasetag-bench-pipeline-")
    app = opts.keep or os.path.join(work, "app")
    if not os.path.exists(os.path.join(app, "static")):
        total = generate(app, opts.files, opts.mb)
        print(f"generated {opts.files} files, {total / 1e6:.0f} MB")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    figures: dict = {"releasetag": [], "sentry-cli": []}
    try:
        for rnd in range(opts.rounds):
            order = ["releasetag", "sentry-cli"] if rnd % 2 == 0 else ["sentry-cli", "releasetag"]
            for tool in order:
                folder = os.path.join(work, f"copy-{tool}")
                shutil.rmtree(folder, ignore_errors=True)
                shutil.copytree(app, folder)
                cache = tempfile.mkdtemp(dir=work)
                with chunk_server._lock:
                    chunk_server._chunks.clear()
                env = dict(
                    os.environ,
                    SENTRY_URL=url, SENTRY_AUTH_TOKEN="bench-token", SENTRY_ORG="bench",
                    SENTRY_PROJECT="web", SENTRY_LOAD_DOTENV="0", SENTRY_DISABLE_UPDATE_CHECK="1",
                    RELEASETAG_CACHE_DIR=cache, CI="1",
                    PYTHONPATH=os.path.join(ROOT, "src"),
                )  # fmt: skip
                run = {name: round(timed(cmd, env), 3) for name, cmd in steps(tool, folder)}
                run["total"] = round(sum(run.values()), 3)
                figures[tool].append(run)
                print(f"{tool:11s} " + "  ".join(f"{k}: {v:.2f}s" for k, v in run.items()))
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        server.shutdown()
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    ours = sorted(r["total"] for r in figures["releasetag"])[len(figures["releasetag"]) // 2]
    theirs = sorted(r["total"] for r in figures["sentry-cli"])[len(figures["sentry-cli"]) // 2]
    ratio = ours / theirs
    verdict = "met" if ratio <= 0.5 else "missed"
    print(f"total (median): releasetag {ours:.2f}s, sentry-cli {theirs:.2f}s, "
          f"ratio {ratio:.2f}x (goal <= 0.5x: {verdict})")  # fmt: skip
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump({"runs": figures, "ratio": ratio, "goal_met": ratio <= 0.5}, fh, indent=1)


if __name__ == "__main__":
    main()
