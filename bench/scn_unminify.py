"""The collector's sourcemap resolution (issue 17; no reference tool, goals on values).

- ``collector.unminify``: one 50-frame minified event resolved in process against a store
  holding an uploaded bundle (a generated 400-function app, minified file and map with a
  debug ID), the map cache warm; microseconds per event. Goal: under 5 ms.
- ``collector.ingest_js``: bench/bench_collector_ingest.py with ``--js`` (10-frame minified
  events whose bundle was uploaded) against the collector with resolution on
  (``releasetag``) and off (``RELEASETAG_UNMINIFY=0``, ``bare``); events/s. Goal: with
  resolution >= 0.7x of without.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict

from .harness import BENCH_DIR, ChildError, Context, Goal, Scenario

FUNCTIONS = 400


def make_app(functions: int = FUNCTIONS):
    """(minified JS, its map, original source): one line of minified code, function ``fN``
    minified to ``aN`` at known columns, each throwing on its own original line."""
    from releasetag.build.artifacts.rewrite import encode_mappings

    source_lines, segments, minified = [], [], ""
    for n in range(functions):
        source_lines += [f"function handler{n}(x) {{", f"  return step{n}(x) + {n};", "}"]
        col = len(minified)
        minified += f"function a{n}(x){{return b{n}(x)+{n}}}"
        line = 3 * n
        segments += [
            (col, 0, line, 0),
            (col + 9, 0, line, 9, n),  # the name: a{n} -> handler{n}
            (col + 9 + len(f"a{n}(x){{"), 0, line + 1, 2),  # "return" on the next line
        ]
    smap = {
        "version": 3,
        "sources": ["src/handlers.js"],
        "sourcesContent": ["\n".join(source_lines) + "\n"],
        "names": [f"handler{n}" for n in range(functions)],
        "mappings": encode_mappings([segments]),
    }
    return minified + "\n", smap


def _position(text: str, n: int):
    """(1-based line, 1-based column) of function n's ``return`` in the (injected) file."""
    token = f"function a{n}(x){{"
    for number, line in enumerate(text.split("\n"), 1):
        if token in line:
            return number, line.index(token) + len(token) + 1
    raise ChildError(f"function a{n} not found in the minified file")


def write_app(folder: str):
    """The generated app written to ``folder`` with debug IDs injected: (JS path, map path,
    debug ID, the injected JS text)."""
    from releasetag.build.artifacts.inject import inject

    os.makedirs(folder, exist_ok=True)
    minified, smap = make_app()
    js, mp = os.path.join(folder, "app.min.js"), os.path.join(folder, "app.min.js.map")
    with open(js, "w") as fh:
        fh.write(minified + "//# sourceMappingURL=app.min.js.map\n")
    with open(mp, "w") as fh:
        json.dump(smap, fh)
    inject([js])
    with open(mp) as fh:
        debug_id = json.load(fh)["debugId"]
    with open(js) as fh:
        return js, mp, debug_id, fh.read()


def _resolve_setup(ctx: Context) -> None:
    from releasetag.build.artifacts.bundle import BundleFile, build_bundle
    from releasetag.collector.bundles import read_bundle
    from releasetag.collector.db.store import Store

    folder = os.path.join(ctx.tmpdir, "unminify")
    js, mp, debug_id, injected = write_app(folder)
    files = [
        BundleFile(js, "~/app.min.js", "minified_source", {"debug-id": debug_id}),
        BundleFile(mp, "~/app.min.js.map", "source_map", {"debug-id": debug_id}),
    ]
    store = Store(os.path.join(folder, "db.sqlite3"))
    with build_bundle(files, release="bench@1") as built:
        with open(built.path, "rb") as fh:
            data = fh.read()
    bundle = read_bundle(data)
    store.add_bundle(built.chunked.checksum, data, {"release": "bench@1"}, bundle["files"])
    frames = []
    for n in range(0, FUNCTIONS, FUNCTIONS // 50):
        line, column = _position(injected, n)
        frames.append({"filename": "/srv/app.min.js", "function": f"a{n}", "lineno": line,
                       "colno": column, "in_app": True})  # fmt: skip
    event = {
        "exception": {"values": [{"type": "Error", "stacktrace": {"frames": frames}}]},
        "debug_meta": {"images": [{"type": "sourcemap", "code_file": "/srv/app.min.js",
                                   "debug_id": debug_id}]},
    }  # fmt: skip
    from releasetag.collector.unminify import Resolver

    resolver = Resolver(store)
    warm = copy.deepcopy(event)
    if resolver.resolve_event(warm) != len(frames):
        raise ChildError("the bench event did not resolve fully")
    ctx.notes.setdefault("_unminify", {}).update(resolver=resolver, event=event, store=store)
    ctx.notes.setdefault("collector.unminify", {})["frames per event"] = str(len(frames))


def _resolve_teardown(ctx: Context) -> None:
    state = ctx.notes.pop("_unminify", {})
    if state.get("store") is not None:
        state["store"].close()


def _resolve(ctx: Context) -> float:
    state = ctx.notes["_unminify"]
    resolver, event = state["resolver"], state["event"]
    runs = 20 if ctx.quick else 100
    copies = [copy.deepcopy(event) for _ in range(runs)]
    start = time.perf_counter()
    for e in copies:
        resolver.resolve_event(e)
    return (time.perf_counter() - start) / runs * 1e6


def _ingest(unminify: bool):
    def run(ctx: Context) -> Dict[str, Any]:
        seconds = 3 if ctx.quick else 8
        env = dict(ctx.env)
        if not unminify:
            env["RELEASETAG_UNMINIFY"] = "0"
        proc = subprocess.run(
            [ctx.python, os.path.join(BENCH_DIR, "bench_collector_ingest.py"), "--json",
             "--js", "--seconds", str(seconds)],
            capture_output=True, text=True, timeout=seconds + 180, env=env, cwd=ctx.tmpdir,
        )  # fmt: skip
        if proc.returncode != 0:
            raise ChildError(f"bench_collector_ingest.py --js: {proc.stderr.strip()[-300:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        if res["stored"] != res["events"] or (unminify and not res.get("resolved")):
            raise ChildError(f"events not stored or not resolved: {res}")
        return {"rate": res["events_per_s"], "p99": res["p99_ms"]}

    return run


SCENARIOS = [
    Scenario(
        name="collector.unminify",
        title="resolving one 50-frame minified event through an uploaded bundle (warm cache)",
        variants={"releasetag": _resolve},
        reference=None,
        metrics={"time": "us"},
        repeats=10,
        quick_repeats=3,
        setup=_resolve_setup,
        teardown=_resolve_teardown,
        goals=(Goal("time", 5000, "issue 17", against="value", text="< 5 ms per event"),),
    ),
    Scenario(
        name="collector.ingest_js",
        title="ingest of minified JS events from 8 senders, resolution on vs off",
        variants={"releasetag": _ingest(True), "bare": _ingest(False)},
        reference=None,
        bare="bare",
        metrics={"rate": "events/s", "p99": "ms"},
        higher_is_better=("rate",),
        repeats=2,
        quick_repeats=1,
        warmup=0,
        goals=(
            Goal(
                "rate",
                None,
                "issue 17",
                against="bare",
                min_ratio=0.7,
                text="with resolution >= 0.7x of without",
            ),
        ),  # fmt: skip
    ),
]

if __name__ == "__main__":
    sys.exit("run: python -m bench --only 'collector.unminify' --only 'collector.ingest_js'")
