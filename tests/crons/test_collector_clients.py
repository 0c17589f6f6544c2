"""Real clients into a real collector: sentry-sdk's ``monitor``, ``sentry-cli monitors run``
and ours are stored and judged alike; the serve process times out a run by itself; the pages
and the Web API (read by both CLIs' ``monitors list``) show them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.support.collector import Collector
from tests.support.recorder import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SENTRY_CLI = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
SDK_JOB = textwrap.dedent(
    """
    import sys, sentry_sdk
    from sentry_sdk.crons import capture_checkin, monitor
    sentry_sdk.init(sys.argv[1], release="app@3", environment="prod", default_integrations=False)
    cfg = {"schedule": {"type": "interval", "value": 1, "unit": "day"}, "max_runtime": 0}
    with monitor(monitor_slug="sdk-job", monitor_config=cfg):
        pass
    try:
        with monitor(monitor_slug="sdk-job", monitor_config=cfg):
            raise ValueError("no")
    except ValueError:
        pass
    capture_checkin(monitor_slug="sdk-job", status="in_progress", monitor_config=cfg)
    sentry_sdk.flush()
    """
)


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _page(collector: Collector, path: str) -> str:
    status, body = collector.request("GET", path, token=None)
    assert status == 200, body
    return body.decode() if isinstance(body, bytes) else str(body)


def test_peers_and_ours_are_stored_judged_and_listed(tmp_path):
    collector = Collector(str(tmp_path / "data"), env={"RELEASETAG_MONITOR_CHECK_SECONDS": "0.3"})
    try:
        env = collector.env()
        env.update(
            SENTRY_DSN=collector.dsn,
            HOME=str(tmp_path),
            SENTRY_RELEASE="app@3",
            RELEASETAG_SPOOL_DIR=str(tmp_path / "spool"),
        )
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), ROOT])
        subprocess.run(
            [sys.executable, "-c", SDK_JOB, collector.dsn], env=env, check=True, timeout=60
        )
        flags = ["-s", "0 3 * * *", "--timezone", "Europe/Vienna", "--failure-issue-threshold", "1"]
        for who, cmd in (("cli", [SENTRY_CLI]), ("ours", [sys.executable, "-m", "releasetag"])):
            code = subprocess.run(
                [*cmd, "monitors", "run", f"{who}-job", *flags, "--", "sh", "-c", "exit 4"],
                env=env,
                timeout=60,
            ).returncode
            assert code == 4
        # the sdk's last run never finishes: max_runtime 0 times it out in the serve process
        page = _wait(lambda: (lambda p: "⌛" in p and p)(_page(collector, "/monitors/")))
        assert page, _page(collector, "/monitors/")
        for slug in ("sdk-job", "cli-job", "ours-job"):
            assert slug in page
        assert page.count("failing") == 3  # sdk: error + timeout; both CLIs: exit 4
        release = _page(collector, "/releases/app@3/")
        assert "sdk-job" in release and "ours-job" in release
        assert "cli-job" not in release  # sentry-cli sends no release
        listings = []
        for cmd in ([SENTRY_CLI], [sys.executable, "-m", "releasetag"]):
            out = subprocess.run(
                [*cmd, "monitors", "list"], env=env, capture_output=True, text=True, timeout=60
            )
            assert out.returncode == 0, out.stderr
            listings.append(out.stdout)
        for listing in listings:
            assert all(slug in listing for slug in ("sdk-job", "cli-job", "ours-job"))
        _bad_items_are_refused_alone(collector)
        for listing in listings:  # the same columns (our table is drawn like our other lists)
            words = listing.split()
            assert [w for w in words if w in ("ID", "Slug", "Name", "Status")] == [
                "ID",
                "Slug",
                "Name",
                "Status",
            ]
    finally:
        collector.stop()


def _bad_items_are_refused_alone(collector: Collector) -> None:
    from releasetag.protocol.dsn import Dsn
    from releasetag.protocol.envelope import Envelope, Item

    dsn = Dsn.parse(collector.dsn)
    good = {"check_in_id": "b" * 32, "monitor_slug": "ours-job", "status": "ok", "duration": -3}
    items = [
        Item.from_json(
            "check_in",
            {**good, "monitor_config": {"schedule": {"type": "crontab", "value": "0 25 * * *"}}},
        ),
        Item.from_bytes("check_in", b"{not json"),
        Item.from_json("check_in", {**good, "monitor_slug": "ghost"}),
        Item.from_json("check_in", good),
        Item.from_json("check_in", good),
    ]
    status, answer = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=Envelope({}, items).serialize(),
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}, sentry_version=7",
        },
        token=None,
    )
    assert status == 200, answer
    assert [r["item"] for r in answer["rejected"]] == [0, 1, 2]
    assert "invalid crontab" in answer["rejected"][0]["reason"]
    assert "unknown monitor 'ghost'" in answer["rejected"][2]["reason"]
    monitors = collector.api("GET", f"/organizations/{collector.org}/monitors/")
    assert "ghost" not in {m["slug"] for m in monitors}
