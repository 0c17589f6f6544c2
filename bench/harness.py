"""The shared benchmark harness: scenarios, alternating repeats, child processes, tables, JSON.

A *scenario* measures one thing for several *variants* (``releasetag``, the reference such as
``sentry_sdk`` or ``sentry_cli``, and optionally ``bare``: the same work without any SDK).
The harness runs the variants alternating (round-robin, with the start rotated every round),
``repeats`` times, after ``warmup`` unrecorded rounds, then reports min and median per variant
and the ratios ``releasetag / reference`` and ``variant / bare``.

A variant is a callable ``fn(ctx) -> float | dict``: one sample of the scenario's first metric,
or ``{metric: value}`` for scenarios with several metrics. Work whose state matters (import
time, init time, RSS) runs in a fresh process per sample: ``ctx.run_child(script, *args)``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "bench")

Sample = Union[float, Dict[str, float]]
Variant = Callable[["Context"], Sample]


class SkipScenario(Exception):
    """Raise from ``setup`` or a variant when a scenario cannot run here (missing tool...)."""


class ChildError(RuntimeError):
    """A benchmark child process failed or printed no result line."""


@dataclass(frozen=True)
class Goal:
    """A target from an issue: ``subject/against <= max_ratio`` on ``metric`` (median).

    For higher-is-better metrics (rates) give ``min_ratio`` instead (``max_ratio=None``).
    """

    metric: str
    max_ratio: Optional[float]
    source: str  # e.g. "issue 2"
    against: str = "reference"  # "reference", "bare", "added" (cost over bare, both SDKs)
    #                             or "value" (the subject's median itself, e.g. events/s)
    text: str = ""
    min_ratio: Optional[float] = None


@dataclass
class Scenario:
    """One measured thing; see bench/README.md for the full interface."""

    name: str
    title: str
    variants: Dict[str, Variant]
    metrics: Dict[str, str] = field(default_factory=lambda: {"time": "ms"})  # metric -> unit
    subject: str = "releasetag"
    reference: Optional[str] = "sentry_sdk"
    bare: Optional[str] = None
    bare_metrics: Optional[Tuple[str, ...]] = None  # metrics with a /bare ratio (None: all)
    repeats: int = 10
    quick_repeats: int = 3
    warmup: int = 1
    higher_is_better: Any = False  # True (every metric) or a tuple of metric names
    goals: Tuple[Goal, ...] = ()
    setup: Optional[Callable[["Context"], None]] = None
    teardown: Optional[Callable[["Context"], None]] = None
    slow: bool = False  # skipped by --quick unless named with --only
    notes: str = ""


@dataclass
class MetricResult:
    unit: str
    samples: Dict[str, List[float]]

    def stat(self, variant: str, fn: Callable[[List[float]], float]) -> Optional[float]:
        values = self.samples.get(variant) or []
        return fn(values) if values else None


@dataclass
class ScenarioResult:
    scenario: Scenario
    metrics: Dict[str, MetricResult]
    seconds: float
    error: Optional[str] = None
    skipped: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


class Context:
    """What a variant gets: flags, a clean child environment, shared servers, helpers."""

    def __init__(self, quick: bool = False, verbose: bool = False) -> None:
        self.quick = quick
        self.verbose = verbose
        self.python = sys.executable
        self.root = ROOT
        self.tmpdir = tempfile.mkdtemp(prefix="releasetag-bench-")
        self.env = clean_env()
        self.notes: Dict[str, Any] = {}  # scenario name -> anything worth reporting
        self._recorder: Any = None

    # --- shared resources ---------------------------------------------------------------
    @property
    def recorder(self) -> Any:
        """A recording server process (tests/support/recording_server.py), started once."""
        if self._recorder is None:
            if ROOT not in sys.path:
                sys.path.insert(0, ROOT)
            from tests.support.recorder import Recorder

            self._recorder = Recorder()
        return self._recorder

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.stop()
            self._recorder = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # --- child processes ------------------------------------------------------------------
    def run_child(
        self,
        script: str,
        *args: Any,
        timeout: float = 300.0,
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[str] = None,
        wrapper: Tuple[str, ...] = (),
    ) -> Dict[str, Any]:
        """Run ``python bench/<script> args...`` in a fresh process; return its result dict.

        The child prints its result as the last stdout line starting with ``RESULT `` followed
        by JSON (see :func:`emit_result`).
        """
        path = script if os.path.isabs(script) else os.path.join(BENCH_DIR, script)
        cmd = list(wrapper) + [self.python, path] + [str(a) for a in args]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env or self.env,
            cwd=cwd or self.tmpdir,
        )
        result = None
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        if proc.returncode != 0 or result is None:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise ChildError(
                f"{os.path.basename(path)} {' '.join(map(str, args))} exited "
                f"{proc.returncode}: {' | '.join(tail)}"
            )
        if self.verbose and proc.stderr.strip():
            sys.stderr.write(proc.stderr)
        return result

    def callgrind(
        self, script: str, *args: Any, timeout: float = 1800.0, env: Optional[Dict[str, str]] = None
    ) -> int:
        """Instructions executed (Ir) by ``python bench/<script> args`` under callgrind."""
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise SkipScenario("valgrind is not installed (apt-get install valgrind)")
        out = os.path.join(self.tmpdir, f"callgrind.{os.getpid()}.{time.monotonic_ns()}")
        self.run_child(
            script,
            *args,
            timeout=timeout,
            env=env,
            wrapper=(valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"),
        )
        try:
            with open(out, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.startswith(("summary:", "totals:")):
                        return int(line.split()[1])
        finally:
            if os.path.exists(out):
                os.unlink(out)
        raise ChildError("callgrind wrote no summary line")

    def callgrind_per_op(
        self, script: str, args: Tuple[Any, ...], n: int, env: Optional[Dict[str, str]] = None
    ) -> float:
        """Instructions per operation: (Ir with ``n`` ops - Ir with 0 ops) / n.

        ``script`` must take the operation count as its last argument.
        """
        base = self.callgrind(script, *args, 0, env=env)
        full = self.callgrind(script, *args, n, env=env)
        return (full - base) / n if n else float(full - base)


def clean_env() -> Dict[str, str]:
    """The environment for children: no DSN/release/CI variables that change SDK behaviour."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SENTRY_", "RELEASETAG_", "PYTHONPATH"))
    }
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def emit_result(data: Dict[str, Any]) -> None:
    """For child scripts: print the result line the harness reads, and flush."""
    sys.stdout.write("RESULT " + json.dumps(data) + "\n")
    sys.stdout.flush()


# --- running ------------------------------------------------------------------------------
def run_scenario(
    scn: Scenario,
    ctx: Context,
    repeats: Optional[int] = None,
    progress: Callable[[str], None] = lambda s: None,
) -> ScenarioResult:
    """Run ``scn``'s variants alternating for ``repeats`` rounds (after warmup rounds)."""
    started = time.monotonic()
    names = list(scn.variants)
    n = repeats if repeats is not None else (scn.quick_repeats if ctx.quick else scn.repeats)
    metrics = {m: MetricResult(u, {v: [] for v in names}) for m, u in scn.metrics.items()}
    first_metric = next(iter(scn.metrics))
    result = ScenarioResult(scn, metrics, 0.0)
    try:
        if scn.setup is not None:
            scn.setup(ctx)
        warm = min(scn.warmup, 1) if ctx.quick else scn.warmup
        for rnd in range(-warm, n):
            shift = rnd % len(names)
            order = names[shift:] + names[:shift]
            for variant in order:
                sample = scn.variants[variant](ctx)
                if rnd < 0:
                    continue
                values = sample if isinstance(sample, dict) else {first_metric: sample}
                for metric, value in values.items():
                    if metric in metrics and value is not None:
                        metrics[metric].samples[variant].append(float(value))
            if rnd >= 0:
                progress(f"{scn.name}: round {rnd + 1}/{n}")
    except SkipScenario as exc:
        result.skipped = str(exc)
    except Exception as exc:  # a broken scenario must not stop the others
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if scn.teardown is not None:
            try:
                scn.teardown(ctx)
            except Exception as exc:
                result.error = result.error or f"teardown: {type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    if scn.name in ctx.notes:
        result.extra = ctx.notes.pop(scn.name)
    return result


def ratios(res: ScenarioResult, metric: str) -> Dict[str, Dict[str, Any]]:
    """Ratios of medians and of mins, keyed by what they compare.

    ``releasetag/sentry_sdk``; ``<variant>/bare`` for each variant; and, when there are both
    a reference and a bare variant, ``added: releasetag/sentry_sdk`` = (releasetag - bare) /
    (sentry_sdk - bare), the cost each SDK adds. Each entry: {"of", "median", "min"}.
    """
    scn = res.scenario
    m = res.metrics[metric]
    out: Dict[str, Dict[str, Any]] = {}
    with_bare = bool(
        scn.bare
        and scn.bare in m.samples
        and (scn.bare_metrics is None or metric in scn.bare_metrics)
    )
    has_ref = bool(scn.reference and scn.reference in m.samples)
    pairs = []
    if has_ref:
        pairs.append((scn.subject, scn.reference))
    if with_bare:
        pairs += [(v, scn.bare) for v in m.samples if v != scn.bare]
    for num, den in pairs:
        entry: Dict[str, Any] = {"of": num}
        for label, fn in (("median", statistics.median), ("min", min)):
            a, b = m.stat(num, fn), m.stat(den, fn)
            entry[label] = (a / b) if a is not None and b else None
        out[f"{num}/{den}"] = entry
    if has_ref and with_bare:
        entry = {"of": scn.subject}
        for label, fn in (("median", statistics.median), ("min", min)):
            a, r, b = (m.stat(v, fn) for v in (scn.subject, scn.reference, scn.bare))
            ok = None not in (a, r, b) and r != b  # type: ignore[operator]
            entry[label] = (a - b) / (r - b) if ok else None  # type: ignore[operator]
        out[f"added: {scn.subject}/{scn.reference}"] = entry
    return out


def goal_verdicts(res: ScenarioResult) -> List[Dict[str, Any]]:
    scn = res.scenario
    out = []
    for goal in scn.goals:
        if goal.against == "value":
            key = f"{scn.subject} {goal.metric}"
            ratio = (
                res.metrics[goal.metric].stat(scn.subject, statistics.median)
                if goal.metric in res.metrics
                else None
            )
        else:
            if goal.against == "added":
                key = f"added: {scn.subject}/{scn.reference}"
            else:
                den = scn.reference if goal.against == "reference" else scn.bare
                key = f"{scn.subject}/{den}"
            ratio = (
                ratios(res, goal.metric).get(key, {}).get("median")
                if goal.metric in res.metrics
                else None
            )
        bounds = []
        unit = "" if goal.against == "value" else "x"
        if goal.max_ratio is not None:
            bounds.append(f"<= {goal.max_ratio}{unit}")
        if goal.min_ratio is not None:
            bounds.append(f">= {goal.min_ratio}{unit}")
        met = None
        if ratio is not None:
            met = (goal.max_ratio is None or ratio <= goal.max_ratio) and (
                goal.min_ratio is None or ratio >= goal.min_ratio
            )
        out.append(
            {
                "goal": goal.text or f"{key} {' and '.join(bounds)} ({goal.metric})",
                "source": goal.source,
                "metric": goal.metric,
                "ratio": ratio,
                "max_ratio": goal.max_ratio,
                "min_ratio": goal.min_ratio,
                "met": met,
            }
        )
    return out


# --- output ---------------------------------------------------------------------------------
def _higher(scn: Scenario, metric: str) -> bool:
    flag = scn.higher_is_better
    return metric in flag if isinstance(flag, (tuple, list, set, frozenset)) else bool(flag)


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return "-"
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.2f}M"
    if a >= 1000:
        return f"{value:.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _fmt_ratio(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.2f}x"


def format_result(res: ScenarioResult) -> str:
    scn = res.scenario
    lines = [f"== {scn.name}: {scn.title}"]
    if res.skipped:
        return "\n".join(lines + [f"   skipped: {res.skipped}"])
    if res.error:
        lines.append(f"   ERROR: {res.error}")
        if not any(any(s for s in m.samples.values()) for m in res.metrics.values()):
            return "\n".join(lines)
    for metric, m in res.metrics.items():
        rat = ratios(res, metric)
        counts = sorted({len(s) for s in m.samples.values()})
        better = "higher" if _higher(scn, metric) else "lower"
        lines.append(f"   {metric} [{m.unit}], {better} is better, n={'/'.join(map(str, counts))}")
        cols = [k for k in rat]
        widths = {c: max(26, len(c) + 2) for c in cols}
        header = f"   {'variant':<16}{'min':>11}{'median':>11}" + "".join(
            f"{c:>{widths[c]}}" for c in cols
        )
        lines.append(header)
        for variant in m.samples:
            row = (
                f"   {variant:<16}{_fmt(m.stat(variant, min)):>11}"
                f"{_fmt(m.stat(variant, statistics.median)):>11}"
            )
            for c in cols:
                if rat[c]["of"] == variant:
                    r = rat[c]
                    cell = f"{_fmt_ratio(r['median'])} (min {_fmt_ratio(r['min'])})"
                else:
                    cell = ""
                row += f"{cell:>{widths[c]}}"
            lines.append(row)
    for goal, verdict in zip(scn.goals, goal_verdicts(res)):
        state = {True: "MET", False: "MISSED", None: "n/a"}[verdict["met"]]
        shown = _fmt(verdict["ratio"]) if goal.against == "value" else _fmt_ratio(verdict["ratio"])
        lines.append(f"   goal ({verdict['source']}): {verdict['goal']}: {shown} -> {state}")
    for key, value in (res.extra or {}).items():
        lines.append(f"   note: {key}: {value}")
    if scn.notes:
        lines.append(f"   ({scn.notes})")
    lines.append(f"   [{res.seconds:.1f}s]")
    return "\n".join(lines)


def result_json(res: ScenarioResult) -> Dict[str, Any]:
    scn = res.scenario
    metrics = {}
    for metric, m in res.metrics.items():
        metrics[metric] = {
            "unit": m.unit,
            "variants": {
                v: {
                    "samples": s,
                    "min": min(s) if s else None,
                    "median": statistics.median(s) if s else None,
                }
                for v, s in m.samples.items()
            },
            "ratios": ratios(res, metric),
        }
    return {
        "name": scn.name,
        "title": scn.title,
        "subject": scn.subject,
        "reference": scn.reference,
        "bare": scn.bare,
        "higher_is_better": [m for m in res.metrics if _higher(scn, m)],
        "metrics": metrics,
        "goals": goal_verdicts(res),
        "notes": res.extra,
        "error": res.error,
        "skipped": res.skipped,
        "seconds": round(res.seconds, 2),
    }


def environment_info() -> Dict[str, Any]:
    def version(dist: str) -> Optional[str]:
        try:
            from importlib.metadata import version as v

            return v(dist)
        except Exception:
            return None

    commit = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except Exception:
        pass
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "commit": commit,
        "versions": {d: version(d) for d in ("releasetag", "sentry-sdk", "sentry-cli")},
    }


def best_seconds_per_call(op: Callable[[], Any], loops: int, rounds: int) -> float:
    """The fastest of ``rounds`` timed runs of ``loops`` calls of ``op``, per call, after a
    warm-up of ``loops // 5`` calls (the per-call scenarios' children measure through this)."""
    for _ in range(loops // 5):
        op()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(loops):
            op()
        best = min(best, (time.perf_counter() - start) / loops)
    return best
