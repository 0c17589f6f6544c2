"""Benchmark: ``releasetag sourcemaps upload`` vs ``sentry-cli sourcemaps upload``.

Both upload the same files (1,000 minified JS files + 1,000 maps, about 200 MB by default)
to the same local chunk server (bench/chunk_server.py), one after the other, each starting
from an empty server; then each re-uploads the unchanged files. Reports wall time, peak RSS
of the uploading process (os.wait4) and what the server received.

    python bench/bench_artifacts.py [--files 2000] [--mb 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def generate(folder: str, files: int, total_mb: int, seed: int = 1) -> int:
    """Minified-looking JS and maps (maps ~2/3 of the bytes); returns total bytes."""
    rng = random.Random(seed)
    pairs = files // 2
    per_pair = total_mb * 1024 * 1024 // pairs
    js_size, map_size = per_pair // 3, per_pair - per_pair // 3
    words = [
        f"{rng.choice('abcdefghijklmnopqrstuvwxyz')}{rng.getrandbits(20):x}" for _ in range(5000)
    ]
    from releasetag.build.artifacts.mappings import vlq_encode

    # valid segments for one source: generated column up, source 0, original line/column up
    segments = [
        vlq_encode(rng.randrange(1, 40))
        + "A"
        + vlq_encode(rng.randrange(0, 2))
        + vlq_encode(rng.randrange(0, 30))
        for _ in range(2000)
    ]
    total = 0
    for i in range(pairs):
        sub = os.path.join(folder, "static", f"chunk{i % 20}")
        os.makedirs(sub, exist_ok=True)
        parts, size = [], 0
        while size < js_size:
            piece = (
                f"function {rng.choice(words)}({rng.choice(words)},{rng.choice(words)})"
                f"{{return {rng.choice(words)}+{rng.getrandbits(16)}}};"
            )
            parts.append(piece)
            size += len(piece)
        name = f"app{i}.min.js"
        js = "".join(parts) + f"\n//# sourceMappingURL={name}.map\n"
        mappings, msize = [], 0
        while msize < map_size - 2000:
            seg = rng.choice(segments)
            mappings.append(seg)
            msize += len(seg) + 1
        smap = json.dumps(
            {
                "version": 3,
                "file": name,
                "sources": [f"src/mod{i}.ts"],
                "names": words[:50],
                "mappings": ",".join(mappings),
            }
        )
        with open(os.path.join(sub, name), "w") as fh:
            fh.write(js)
        with open(os.path.join(sub, name + ".map"), "w") as fh:
            fh.write(smap)
        total += len(js) + len(smap)
    return total


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "chunk_server.py")], stdout=subprocess.PIPE
        )
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def call(self, path: str, post: bool = False):
        req = urllib.request.Request(
            self.url + path, data=b"{}" if post else None, method="POST" if post else "GET"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def run(cmd, env) -> dict:
    # output goes to files, not pipes: a chatty tool must not block on a full pipe
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=err_f)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out_f.seek(0)
        err_f.seek(0)
        out = out_f.read().decode(errors="replace")
        err = err_f.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "out": out.strip()[-300:],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--keep", help="reuse/keep the generated files in this folder")
    opts = ap.parse_args()
    folder = opts.keep or tempfile.mkdtemp(prefix="releasetag-bench-")
    try:
        if not os.path.exists(os.path.join(folder, "static")):
            t = time.perf_counter()
            total = generate(folder, opts.files, opts.mb)
            subprocess.run(
                [sys.executable, "-m", "releasetag", "sourcemaps", "inject", folder],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(
                f"generated {opts.files} files, {total / 1e6:.0f} MB, injected "
                f"({time.perf_counter() - t:.1f} s)"
            )
        server = Server()
        cache = tempfile.mkdtemp(prefix="releasetag-bench-cache-")
        try:
            env = dict(
                os.environ,
                RELEASETAG_CACHE_DIR=cache,
                SENTRY_URL=server.url,
                SENTRY_AUTH_TOKEN="bench-token",
                SENTRY_ORG="bench",
                SENTRY_PROJECT="web",
                SENTRY_LOAD_DOTENV="0",
                RELEASETAG_URL=server.url,
                RELEASETAG_AUTH_TOKEN="bench-token",
                RELEASETAG_ORG="bench",
                RELEASETAG_PROJECT="web",
                CI="1",
            )
            sentry_cli = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
            tools = {
                "releasetag": [
                    sys.executable,
                    "-m",
                    "releasetag",
                    "sourcemaps",
                    "upload",
                    folder,
                    "--release",
                    "bench@1",
                ],
                "sentry-cli": [sentry_cli, "sourcemaps", "upload", folder, "--release", "bench@1"],
            }
            results = {}
            for name, cmd in tools.items():
                server.call("/__reset__", post=True)
                first = run(cmd, env)
                first["server"] = {
                    k: v for k, v in server.call("/__stats__").items() if k != "other"
                }
                before = server.call("/__stats__")
                again = run(cmd, env)
                after = server.call("/__stats__")
                again["chunks_sent"] = after["chunks"] - before["chunks"]
                results[name] = {"first": first, "unchanged": again}
                if name == "releasetag":  # the same without the bundle hash cache
                    nocache = run(cmd + ["--no-cache"], env)
                    nocache["chunks_sent"] = server.call("/__stats__")["chunks"] - after["chunks"]
                    results[name]["unchanged_no_cache"] = nocache
                print(
                    f"{name:11s} first: {first['wall_s']:6.2f} s  "
                    f"peak {first['peak_rss_mb']:6.1f} MB"
                    f"  cpu {first['cpu_s']:6.2f} s  chunks {first['server']['chunks']} "
                    f"({first['server']['chunk_bytes'] / 1e6:.1f} MB) | unchanged: "
                    f"{again['wall_s']:.2f} s, {again['chunks_sent']} chunks, "
                    f"peak {again['peak_rss_mb']:.1f} MB"
                )
            for name, res in results.items():
                extra = res.get("unchanged_no_cache")
                if extra:
                    print(
                        f"{name:11s} unchanged without hash cache: {extra['wall_s']:.2f} s, "
                        f"cpu {extra['cpu_s']:.2f} s, {extra['chunks_sent']} chunks"
                    )
            print(json.dumps(results, indent=1))
        finally:
            server.stop()
            shutil.rmtree(cache, ignore_errors=True)
    finally:
        if not opts.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
