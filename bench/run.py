"""Run every benchmark scenario: ``python -m bench [--quick] [--only NAME] [--json FILE]``.

Scenarios are discovered from the modules ``bench/scn_*.py`` and ``bench/bench_*.py`` that
define ``SCENARIOS`` (a list of :class:`bench.harness.Scenario`); see bench/README.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import importlib
import json
import os
import sys
import time
from typing import List, Optional, Tuple

if __package__ in (None, ""):  # ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from bench import harness  # noqa: E402
from bench.harness import Scenario  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def discover() -> Tuple[List[Scenario], List[str]]:
    """All scenarios, in module order; and one line per module that could not be used."""
    scenarios: List[Scenario] = []
    problems: List[str] = []
    files = sorted(glob.glob(os.path.join(BENCH_DIR, "scn_*.py"))) + sorted(
        glob.glob(os.path.join(BENCH_DIR, "bench_*.py"))
    )
    seen = set()
    wrapped = set()  # standalone scripts that an adapter module plugs in (its WRAPS)
    no_scenarios = []
    for path in files:
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            module = importlib.import_module(f"bench.{name}")
        except Exception as exc:
            problems.append(f"bench/{name}.py: cannot import: {type(exc).__name__}: {exc}")
            continue
        wrapped.update(getattr(module, "WRAPS", ()))
        found = getattr(module, "SCENARIOS", None)
        if not found:
            no_scenarios.append(name)
            continue
        for scn in found:
            if scn.name in seen:
                problems.append(f"bench/{name}.py: duplicate scenario name {scn.name!r} skipped")
                continue
            seen.add(scn.name)
            scenarios.append(scn)
    problems += [
        f"bench/{name}.py: defines no SCENARIOS (not run by python -m bench)"
        for name in no_scenarios
        if name not in wrapped
    ]
    return scenarios, problems


def select(scenarios: List[Scenario], only: Optional[List[str]], quick: bool) -> List[Scenario]:
    if only:
        patterns = [p for arg in only for p in arg.split(",") if p]
        return [
            s
            for s in scenarios
            if any(fnmatch.fnmatchcase(s.name, p) or s.name == p for p in patterns)
        ]
    return [s for s in scenarios if not (quick and s.slow)]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and smaller N; skips slow scenarios (callgrind)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these scenarios (name or glob, comma-separated, "
        "repeatable), e.g. --only 'capture_*'",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--repeats", type=int, help="override every scenario's repeat count")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show children's stderr and progress"
    )
    args = parser.parse_args(argv)

    scenarios, problems = discover()
    for line in problems:
        print(f"note: {line}", file=sys.stderr)
    if args.list:
        for scn in scenarios:
            flags = " (slow)" if scn.slow else ""
            print(f"{scn.name:<28} {scn.title}{flags}")
        return 0
    chosen = select(scenarios, args.only, args.quick)
    if not chosen:
        print(
            f"error: no scenario matches {', '.join(args.only or [])} (see python -m bench --list)",
            file=sys.stderr,
        )
        return 2
    if args.repeats is not None and args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2

    info = harness.environment_info()
    print(
        f"releasetag bench: {info['versions']}, Python {info['python']}, "
        f"{info['cpus']} CPUs, load {info['load_avg']}, commit {info['commit']}"
        f"{', quick' if args.quick else ''}"
    )
    progress = (
        (lambda s: print(f"   .. {s}", file=sys.stderr)) if args.verbose else (lambda s: None)
    )
    ctx = harness.Context(quick=args.quick, verbose=args.verbose)
    results = []
    started = time.monotonic()
    try:
        for scn in chosen:
            res = harness.run_scenario(scn, ctx, args.repeats, progress)
            results.append(res)
            print(harness.format_result(res), flush=True)
    except KeyboardInterrupt:
        print("interrupted: reporting what finished", file=sys.stderr)
    finally:
        ctx.close()
    total = time.monotonic() - started
    missed = [v for r in results for v in harness.goal_verdicts(r) if v["met"] is False]
    failed = [r.scenario.name for r in results if r.error]
    print(
        f"\n{len(results)} scenarios in {total:.0f}s; goals missed: {len(missed)}; "
        f"scenarios with errors: {', '.join(failed) or 'none'}"
    )
    if args.json:
        data = {
            "meta": dict(info, quick=args.quick, seconds=round(total, 1), module_problems=problems),
            "scenarios": [harness.result_json(r) for r in results],
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
