"""Logs from @sentry/node (installed from npm into a temporary folder) with ``enableLogs``:
stored by the collector with their release and environment, and found by text search."""

from __future__ import annotations

import shutil
import subprocess
import urllib.parse

import pytest

from tests.support.collector import Collector

pytestmark = [pytest.mark.tools("node", "npm"), pytest.mark.timeout(600)]

APP = """
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], release: "web@7.1.0", environment: "staging",
              enableLogs: true });
Sentry.logger.info(Sentry.logger.fmt`basket ${"b-9"} checked out by ${"zoe"}`);
Sentry.logger.error("gateway timed out after 30s", { gateway: "acme", attempt: 3 });
Sentry.flush(10000).then(() => process.exit(0));
"""


def test_sentry_node_logs_are_stored_with_their_release(tmp_path):
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        pytest.fail("node and npm are needed (APT_PACKAGES in run-tests installs nodejs, npm)")
    (tmp_path / "package.json").write_text('{"name": "rt-logs-node", "private": true}')
    res = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "@sentry/node@10"],
        cwd=tmp_path, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-500:]
    (tmp_path / "app.js").write_text(APP)
    c = Collector(str(tmp_path / "data"))
    try:
        res = subprocess.run(
            [node, "app.js", c.dsn], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 0, res.stderr[-500:]
        path = (
            f"/organizations/{c.org}/events/?dataset=logs&field=message&field=severity"
            "&field=release&field=environment&field=gateway&field=attempt&query="
        )
        found = c.api("GET", path + urllib.parse.quote("release:web@7.1.0 timed out"))["data"]
        assert found == [
            {"message": "gateway timed out after 30s", "severity": "error",
             "release": "web@7.1.0", "environment": "staging", "gateway": "acme", "attempt": 3}
        ]  # fmt: skip
        (basket,) = c.api("GET", path + "basket")["data"]
        assert basket["message"] == "basket b-9 checked out by zoe"
        assert basket["release"] == "web@7.1.0"
    finally:
        c.stop()
