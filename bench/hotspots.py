"""Where the time goes: profile one core scenario for one SDK with cProfile.

    python -m bench.hotspots init [--sdk releasetag] [--top 25] [--n 60]

SCENARIO is import, init, capture_exception or capture_message. The measured region of the
scenario's child process (bench/_child_core.py) is profiled, nothing else; the output lists
the functions with the most own time (file:function, share of the total) and the files whose
code (including the modules they import) takes the most cumulative time.
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.harness import BENCH_DIR, clean_env  # noqa: E402

SCENARIOS = ("import", "init", "capture_exception", "capture_message")


def _short(path: str) -> str:
    for marker in ("site-packages" + os.sep, os.sep + "src" + os.sep, os.sep + "lib" + os.sep):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hotspots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--sdk", default="releasetag", choices=("releasetag", "sentry_sdk"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--n", type=int, default=60, help="calls for the capture scenarios")
    args = parser.parse_args(argv)

    from tests.support.recorder import Recorder  # noqa: PLC0415 - repository root on sys.path

    recorder = Recorder() if args.scenario != "import" else None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "profile.pstats")
        cmd = [sys.executable, os.path.join(BENCH_DIR, "_child_core.py"), args.scenario, args.sdk]
        if recorder is not None:
            cmd.append(recorder.dsn())
        if args.scenario.startswith("capture"):
            cmd.append(str(args.n))
        try:
            proc = subprocess.run(
                cmd,
                env=dict(clean_env(), BENCH_PROFILE=out),
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            if recorder is not None:
                recorder.stop()
        if proc.returncode != 0 or not os.path.exists(out):
            print(
                f"error: the profiled child failed: {proc.stderr.strip()[-500:]}", file=sys.stderr
            )
            return 1
        stats = pstats.Stats(out)
    total = max(stats.total_tt, 1e-9)
    print(
        f"{args.sdk} {args.scenario}: {total * 1e3:.1f} ms profiled in total "
        f"(profiler overhead included)"
    )
    rows = []
    for (path, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        rows.append((tt, ct, f"{_short(path)}:{line}({func})"))
    print(f"\nown time, top {args.top}:\n{'share':>7} {'own ms':>9} {'cum ms':>9}  function")
    for tt, ct, name in sorted(rows, reverse=True)[: args.top]:
        print(f"{tt / total:7.1%} {tt * 1e3:9.2f} {ct * 1e3:9.2f}  {name}")
    modules = [(ct, name) for tt, ct, name in rows if name.endswith("(<module>)")]
    if modules:
        print(
            f"\nmodule bodies by cumulative time (imports they trigger included), top "
            f"{args.top}:\n{'share':>7} {'cum ms':>9}  module"
        )
        for ct, name in sorted(modules, reverse=True)[: args.top]:
            print(f"{ct / total:7.1%} {ct * 1e3:9.2f}  {name.rsplit(':', 1)[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
