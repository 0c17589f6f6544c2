"""The benchmark harness: alternation, statistics, ratios, goals, discovery and the runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench import harness
from bench.harness import Context, Goal, Scenario
from bench.run import discover, select

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def ctx():
    context = Context(quick=False)
    yield context
    context.close()


def _counting(values, calls, name):
    it = iter(values)

    def run(ctx):
        calls.append(name)
        return next(it)

    return run


def test_variants_alternate_with_rotating_start_and_warmup_is_not_recorded(ctx):
    calls = []
    scn = Scenario(
        "toy",
        "toy",
        {
            "releasetag": _counting([99, 3, 2, 4], calls, "releasetag"),
            "sentry_sdk": _counting([99, 10, 8, 12], calls, "sentry_sdk"),
        },
        repeats=3,
        warmup=1,
    )
    res = harness.run_scenario(scn, ctx)
    assert res.error is None
    # warm-up round (order rotated by -1), then rounds 0, 1, 2 with the start rotating
    assert calls == [
        "sentry_sdk",
        "releasetag",
        "releasetag",
        "sentry_sdk",
        "sentry_sdk",
        "releasetag",
        "releasetag",
        "sentry_sdk",
    ]
    m = res.metrics["time"]
    assert sorted(m.samples["releasetag"]) == [2.0, 3.0, 4.0]
    assert m.stat("sentry_sdk", min) == 8.0
    rat = harness.ratios(res, "time")
    assert rat["releasetag/sentry_sdk"]["median"] == pytest.approx(3 / 10)
    assert rat["releasetag/sentry_sdk"]["min"] == pytest.approx(2 / 8)


def test_goals_bare_ratios_and_json(ctx):
    scn = Scenario(
        "toy",
        "toy",
        {
            "releasetag": lambda c: {"rss": 30.0},
            "sentry_sdk": lambda c: {"rss": 40.0},
            "bare": lambda c: {"rss": 10.0},
        },
        metrics={"rss": "MiB"},
        bare="bare",
        repeats=2,
        warmup=0,
        goals=(
            Goal("rss", 0.5, "issue 2"),
            Goal("rss", 3.5, "x", against="bare"),
            Goal("rss", 0.5, "y", against="added"),
        ),
    )
    res = harness.run_scenario(scn, ctx)
    rat = harness.ratios(res, "rss")
    assert rat["releasetag/sentry_sdk"]["median"] == pytest.approx(0.75)
    assert rat["releasetag/bare"]["median"] == pytest.approx(3.0)
    assert rat["sentry_sdk/bare"]["median"] == pytest.approx(4.0)
    # the cost each SDK adds over the bare program: (30 - 10) / (40 - 10)
    assert rat["added: releasetag/sentry_sdk"]["median"] == pytest.approx(2 / 3)
    verdicts = harness.goal_verdicts(res)
    assert [v["met"] for v in verdicts] == [False, True, False]
    text = harness.format_result(res)
    assert "MISSED" in text and "0.75x" in text and "3.00x" in text
    data = json.loads(json.dumps(harness.result_json(res)))
    assert data["metrics"]["rss"]["variants"]["bare"]["median"] == 10.0
    assert data["goals"][0]["ratio"] == pytest.approx(0.75)


def test_a_failing_scenario_is_reported_and_does_not_raise(ctx):
    def boom(c):
        raise RuntimeError("no server")

    res = harness.run_scenario(Scenario("bad", "bad", {"releasetag": boom}), ctx)
    assert res.error == "RuntimeError: no server"
    assert "ERROR: RuntimeError: no server" in harness.format_result(res)


def test_child_processes_report_results_and_failures(ctx):
    res = ctx.run_child("_child_core.py", "import", "releasetag")
    assert res["time"] > 0 and "requests" not in res["heavy"] and "git" not in res["heavy"]
    with pytest.raises(harness.ChildError, match="unknown command"):
        ctx.run_child("_child_core.py", "no-such-command")


def test_discovery_finds_the_core_scenarios_and_quick_skips_slow_ones():
    scenarios, problems = discover()
    names = [s.name for s in scenarios]
    assert {"import", "init", "capture_exception", "capture_message", "throughput", "rss"} <= set(
        names
    )
    assert len(names) == len(set(names))
    quick = [s.name for s in select(scenarios, None, quick=True)]
    assert "init.instr" in names and "init.instr" not in quick
    assert [s.name for s in select(scenarios, ["capture_*.instr"], quick=True)] == [
        "capture_exception.instr",
        "capture_message.instr",
    ]


def test_runner_rejects_an_unknown_scenario_and_writes_json(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    bad = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "error: no scenario matches nope" in bad.stderr
    out = tmp_path / "figures.json"
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "import",
            "--repeats",
            "2",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "releasetag/sentry_sdk" in ok.stdout
    data = json.loads(out.read_text())
    (scn,) = data["scenarios"]
    assert scn["name"] == "import"
    assert len(scn["metrics"]["time"]["variants"]["releasetag"]["samples"]) == 2
    assert scn["goals"][0]["met"] is True


def test_rate_goals_use_a_lower_bound(ctx):
    scn = Scenario(
        "rate",
        "rate",
        {"releasetag": lambda c: 120.0, "sentry_sdk": lambda c: 100.0},
        metrics={"rate": "events/s"},
        higher_is_better=True,
        repeats=1,
        warmup=0,
        goals=(Goal("rate", None, "x", min_ratio=1.0), Goal("rate", None, "y", min_ratio=1.5)),
    )
    verdicts = harness.goal_verdicts(harness.run_scenario(scn, ctx))
    assert [v["met"] for v in verdicts] == [True, False]
    assert verdicts[0]["goal"] == "releasetag/sentry_sdk >= 1.0x (rate)"


def test_absolute_goals_judge_the_median_value(ctx):
    values = iter([600.0, 400.0, 700.0])
    scn = Scenario(
        "ingest",
        "ingest",
        {"releasetag": lambda c: {"rate": next(values), "p99": 60.0}},
        metrics={"rate": "events/s", "p99": "ms"},
        reference=None,
        higher_is_better=("rate",),
        repeats=3,
        warmup=0,
        goals=(
            Goal("rate", None, "issue 5", against="value", min_ratio=500),
            Goal("p99", 50, "issue 5", against="value"),
        ),
    )
    res = harness.run_scenario(scn, ctx)
    verdicts = harness.goal_verdicts(res)
    assert [(v["ratio"], v["met"]) for v in verdicts] == [(600.0, True), (60.0, False)]
    text = harness.format_result(res)
    assert "rate [events/s], higher is better" in text and "p99 [ms], lower is better" in text
