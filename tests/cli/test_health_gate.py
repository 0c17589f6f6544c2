"""``releasetag releases health`` (the CI gate) and the health in ``releases info``, against
a real collector fed with sessions, and against a server without a Sessions API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Dict

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item
from releasetag.protocol.session_fields import wire_time
from tests.support.collector import Collector
from tests.support.recorder import ROOT

pytestmark = pytest.mark.timeout(120)


def _cli(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "releasetag", *args],
        cwd=ROOT,
        env=dict(env, PYTHONPATH=os.path.join(ROOT, "src")),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _post(collector: Collector, *items: Item) -> None:
    dsn = Dsn.parse(collector.dsn)
    status, body = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=Envelope({}, list(items)).serialize(),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}, sentry_version=7"},
        token=None,
    )
    assert status == 200 and "rejected" not in body, body


def _counts(release: str, environment: str, **counts: int) -> Item:
    return Item.from_json(
        "sessions",
        {
            "attrs": {"release": release, "environment": environment},
            "aggregates": [{"started": wire_time(time.time()), **counts}],
        },
    )


def _user_session(release: str, did: str, status: str) -> Item:
    now = time.time()
    return Item.from_json(
        "session",
        {
            "sid": str(uuid.uuid4()),
            "did": did,
            "init": True,
            "started": wire_time(now - 1),
            "timestamp": wire_time(now),
            "seq": 1,
            "errors": int(status == "crashed"),
            "status": status,
            "attrs": {"release": release, "environment": "production"},
        },
    )


@pytest.fixture
def served(tmp_path):
    collector = Collector(str(tmp_path / "data"))
    try:
        env = collector.env()
        for version in ("shop@1.0", "shop@1.1"):
            assert _cli(env, "releases", "new", version).returncode == 0
            done = _cli(env, "releases", "deploys", version, "new", "-e", "production")
            assert done.returncode == 0, done.stderr
        _post(
            collector,
            _counts("shop@1.0", "production", exited=99, crashed=1),
            _counts("shop@1.1", "production", exited=45, errored=2, crashed=3),
            _counts("shop@1.1", "staging", exited=10),
            _user_session("shop@1.1", "alice", "exited"),
            _user_session("shop@1.1", "bob", "crashed"),
        )
        yield collector, env
    finally:
        collector.stop()


def test_a_healthy_release_passes_the_gate(served):
    collector, env = served
    done = _cli(
        env,
        "releases",
        "health",
        "shop@1.0",
        "-e",
        "production",
        "--min-crash-free-sessions",
        "98.5",
        "--max-new-issues",
        "0",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "since its last deploy to production" in done.stdout
    assert "crash-free sessions: 99.00%" in done.stdout
    assert done.stdout.rstrip().endswith("verdict: pass")


def test_a_regressing_release_fails_with_one_line_per_breach(served):
    collector, env = served
    done = _cli(
        env,
        "releases",
        "health",
        "shop@1.1",
        "-e",
        "production",
        "--min-crash-free-sessions",
        "99",
        "--min-crash-free-users",
        "90",
        "--min-sessions",
        "50",
    )
    assert done.returncode == 3, done.stdout + done.stderr
    breaches = [line for line in done.stdout.splitlines() if "below the threshold" in line]
    assert breaches == [
        "crash-free sessions 92.31% is below the threshold 99.00%",  # 4 crashes in 52
        "crash-free users 50.00% is below the threshold 90.00%",
    ]
    assert done.stdout.rstrip().endswith("verdict: fail")


def test_json_output_of_the_gate(served):
    collector, env = served
    done = _cli(env, "releases", "health", "shop@1.1", "--min-crash-free-sessions", "95", "--json")
    assert done.returncode == 3
    data = json.loads(done.stdout)
    assert data["verdict"] == "fail" and data["environment"] is None
    assert data["figures"]["sessions"] == 62  # both environments
    assert data["figures"]["users"] == 2
    assert data["figures"]["crash_free_sessions"] == pytest.approx(100 * (1 - 4 / 62), abs=1e-3)
    assert data["window"]["from"] == "deploy"
    assert len(data["breaches"]) == 1


def test_too_few_sessions_is_no_verdict(served):
    collector, env = served
    done = _cli(
        env,
        "releases",
        "health",
        "shop@1.1",
        "-e",
        "staging",
        "--min-crash-free-sessions",
        "99",
        "--min-sessions",
        "100",
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "no verdict: 10 session(s) in the window, fewer than --min-sessions 100" in done.stdout
    done = _cli(
        env,
        "releases",
        "health",
        "shop@1.1",
        "-e",
        "staging",
        "--min-crash-free-users",
        "99",
        "--min-sessions",
        "1",
    )
    assert done.returncode == 4  # request-mode sessions carry no users
    assert "no user data" in done.stdout


def test_new_issues_and_regressions_count_against_their_limits(served):
    collector, env = served
    for n in range(2):
        event = {
            "event_id": uuid.uuid4().hex,
            "release": "shop@1.1",
            "environment": "production",
            "level": "error",
            "exception": {"values": [{"type": f"NewError{n}", "value": "in 1.1"}]},
        }
        _post(collector, Item.from_json("event", event))
    done = _cli(
        env, "releases", "health", "shop@1.1", "--max-new-issues", "1", "--max-regressions", "0"
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "new issues 2 is above the threshold 1" in done.stdout
    assert "regressions: " in done.stdout and "regressions 0 is above" not in done.stdout


def test_a_window_instead_of_the_deploy(served):
    collector, env = served
    done = _cli(
        env, "releases", "health", "shop@1.0", "--window", "2h", "--max-new-issues", "0", "--json"
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["window"]["from"] == "window" and data["figures"]["sessions"] == 100


def test_releases_info_shows_health_per_environment(served):
    collector, env = served
    done = _cli(env, "releases", "info", "shop@1.1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("Health (last 14 days):")
    rows = {line.split()[0]: line.split()[1:] for line in lines[start + 3 :] if line.strip()}
    assert rows["production"][:3] == ["52", "92.31%", "50.00%"]
    assert rows["staging"] == ["10", "100.00%", "n/a", "100.00%"]
    # adoption: shop@1.1 has 52 of production's 152 sessions in the last 24 h
    assert rows["production"][3] == f"{100 * 52 / 152:.2f}%"


def test_the_default_min_sessions_is_where_one_crash_still_passes(served):
    collector, env = served
    # 99 % needs 100 sessions; production has 52 of shop@1.1
    done = _cli(
        env, "releases", "health", "shop@1.1", "-e", "production", "--min-crash-free-sessions", "99"
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "fewer than --min-sessions 100" in done.stdout
    assert done.stdout.rstrip().endswith("verdict: no verdict")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "needs at least one threshold: --min-crash-free-sessions, --min-crash-free-users"),
        (["--min-crash-free-sessions", "120"], "not a percentage"),
        (["--max-new-issues", "-1"], "not a non-negative whole number"),
        (["--window", "soon"], "use a number and s, m, h, d or w"),
        (["--window", "1h", "--since-deploy"], "not allowed with argument"),
    ],
)
def test_bad_gate_arguments_are_usage_errors(served, args, message):
    collector, env = served
    done = _cli(env, "releases", "health", "shop@1.1", *args)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_without_a_sessions_api_is_one_line_and_exit_1(recorder):
    recorder.respond({"path": "/sessions/", "status": 404, "body": {"detail": "Not found"}})
    env = dict(
        os.environ,
        SENTRY_URL=recorder.url + "/",
        SENTRY_AUTH_TOKEN="test-token-1234",
        SENTRY_ORG="acme",
        RELEASETAG_HTTP_BACKOFF="0.01",
    )
    env.pop("SENTRY_PROJECT", None)
    done = _cli(
        env, "releases", "health", "web@1", "--window", "1h", "--min-crash-free-sessions", "99"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "the server does not provide session data" in line
    assert "test-token-1234" not in done.stdout + done.stderr


def test_a_regression_in_the_release_breaches_max_regressions(served):
    collector, env = served

    def crash(release: str) -> Item:
        return Item.from_json(
            "event",
            {
                "event_id": uuid.uuid4().hex,
                "release": release,
                "environment": "production",
                "level": "error",
                "exception": {"values": [{"type": "LedgerError", "value": "unbalanced"}]},
            },
        )

    _post(collector, crash("shop@1.0"))
    (issue,) = collector.api("GET", f"/organizations/{collector.org}/issues/?query=LedgerError")
    collector.api("PUT", f"/issues/{issue['id']}/", {"status": "resolved"})
    assert _cli(env, "releases", "new", "shop@1.2").returncode == 0
    _post(collector, crash("shop@1.2"))  # the resolved error is back in a later release
    done = _cli(env, "releases", "health", "shop@1.2", "--max-regressions", "0")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "regressions 1 is above the threshold 0" in done.stdout
    done = _cli(env, "releases", "health", "shop@1.1", "--max-regressions", "0")
    assert done.returncode == 0, done.stdout  # 1.1 regressed nothing
