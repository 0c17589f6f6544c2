"""``releasetag demo`` end to end: a collector, the sample app, commits, deploys, a sourcemap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest


def _env():
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("RELEASETAG_", "SENTRY_", "GIT_"))
    }


@pytest.mark.slow
def test_demo_runs_the_whole_loop_and_prints_a_summary(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "demo"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2 commits from a sample repository" in out
    note = next(line for line in out.splitlines() if "sample app reported via" in line)
    reported = note.split("reported via ", 1)[1].split(", ")
    assert reported[:2] == ["capture_exception", "capture_message"]  # more with integrations
    rows = {tuple(line.split()) for line in out.splitlines()}
    assert reported[-1] == "sessions"  # requests through the WSGI middleware: no events
    n = str(len(reported) - 1)
    assert ("demo-shop@1.0.0", "production", n) in rows
    assert ("demo-shop@1.0.0", "staging", n) in rows
    assert ("2", "2", "2") in rows  # commits, deploys, artifacts
    # a release fixes the sample app's PaymentDeclined issue, a later one brings it back
    assert "demo-shop@1.0.1 resolves LOCAL-1 by its commit message 'Fixes LOCAL-1'" in out
    assert "would have mailed dev@example.com" in out
    issue_row = next(line.split() for line in out.splitlines() if line.startswith("LOCAL-1 "))
    assert issue_row[1] == "PaymentDeclined:" and issue_row[-5:] == [
        "regressed",
        "3",
        "demo-shop@1.0.0",
        "demo-shop@1.0.1",
        "demo-shop@1.0.2",
    ]
    assert "suspect commit by Demo Dev" in out
    # release health: 1.0.2 crashes in 8 of its 50 requests more than 1.0.0, and the gate
    # a pipeline would run fails on it
    assert ("demo-shop@1.0.0", "production", "52", "2", "96.15%", "50.00%") in rows
    assert ("demo-shop@1.0.2", "production", "52", "10", "80.77%", "50.00%") in rows
    gate = next(line for line in out.splitlines() if "gate the releases" in line)
    assert "demo-shop@1.0.0 passes (exit 0)" in gate
    assert (
        "demo-shop@1.0.2 fails (exit 3): crash-free sessions 80.77% is below the "
        "threshold 95.00%" in gate
    )
    # not on a terminal and without --keep: the collector stopped, and the demo says so
    assert "Open http://" not in out
    assert out.rstrip().endswith("`releasetag demo --data DIR` to keep the data.")
    assert proc.stderr == ""


@pytest.mark.slow
def test_demo_with_data_says_how_to_serve_it_again(tmp_path):
    data_dir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "demo", "--data", str(data_dir)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip().splitlines()[-1]
    command = f"releasetag serve --data {data_dir / 'collector'}"
    assert last.endswith(command)
    from tests.support.collector import Collector

    served = Collector(str(data_dir / "collector"))  # releasetag serve --data DIR
    try:
        releases = served.api("GET", "/organizations/local/releases/")
        assert {r["version"] for r in releases} >= {"demo-shop@1.0.0", "demo-shop@1.0.2"}
        # every commit of every release names its repository, not its author
        for version in ("demo-shop@1.0.0", "demo-shop@1.0.1", "demo-shop@1.0.2"):
            commits = served.api("GET", f"/organizations/local/releases/{version}/commits/")
            assert commits, version
            assert {c["repository"]["name"] for c in commits} == {"demo/shop"}, version
            assert {c["author"]["name"] for c in commits} == {"Demo Dev"}, version
    finally:
        served.stop()


def _api(data, path):
    req = urllib.request.Request(
        data["url"].rstrip("/") + "/api/0" + path,
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _sentry_cli_debug_id(tmp_path):
    from releasetag.cli.demo import SAMPLE_JS, SAMPLE_MAP
    from tests.collector.test_sentry_cli import SENTRY_CLI

    dist = tmp_path / "inject"
    dist.mkdir()
    (dist / "app.min.js").write_text(SAMPLE_JS)
    (dist / "app.min.js.map").write_text(SAMPLE_MAP)
    subprocess.run(
        [SENTRY_CLI, "sourcemaps", "inject", str(dist)],
        check=True,
        capture_output=True,
        timeout=60,
        env=_env(),
    )
    text = (dist / "app.min.js").read_text()
    return text.split("//# debugId=")[1].split()[0]


@pytest.mark.slow
def test_demo_keep_leaves_the_collector_serving(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "releasetag",
            "demo",
            "--keep",
            "--json",
            "--data",
            str(tmp_path / "demo"),
        ],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        data = json.loads(proc.stdout.readline())
        n = len(data["reported"]) - 1  # the traffic scenario reports sessions, not events
        assert [g["exit"] for g in data["gates"]] == [0, 3]
        first = [e for e in data["events"] if e["release"] == "demo-shop@1.0.0"]
        assert n >= 2 and {(e["environment"], e["count"]) for e in first} == {
            ("staging", n),
            ("production", n),
        }
        assert (data["commits"], data["deploys"], data["artifacts"]) == (2, 2, 2)
        with urllib.request.urlopen(data["page"], timeout=10) as resp:
            html = resp.read().decode()
        assert "demo-shop@1.0.0" in html and "PaymentDeclined" in html
        assert "~/app.min.js.map" in html and "Charge against the card limit" in html
        [payment] = [i for i in data["issues"] if i["title"].startswith("PaymentDeclined")]
        assert (payment["status"], payment["resolvedIn"], payment["regressedIn"]) == (
            "regressed",
            "demo-shop@1.0.1",
            "demo-shop@1.0.2",
        )
        with urllib.request.urlopen(
            data["url"] + "releases/demo-shop%401.0.2/", timeout=10
        ) as resp:
            page = resp.read().decode()
        regressions = page.split("id=regressions", 1)[1].split("id=resolved", 1)[0]
        assert payment["shortId"] in regressions and "Simplify checkout" in regressions
        # the sourcemap's debug ID is the one sentry-cli's inject gives the same files
        files = _api(data, "/organizations/local/releases/demo-shop@1.0.0/files/")
        assert {f["debugId"] for f in files} == {_sentry_cli_debug_id(tmp_path)}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0
