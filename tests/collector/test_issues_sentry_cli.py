"""sentry-cli's ``issues`` commands (list, resolve, unresolve, mute) against ``releasetag
serve``: the issues API answers in the shapes the real client reads."""

from __future__ import annotations

import subprocess

import pytest

from tests.collector.test_issues import error, issues, send
from tests.collector.test_sentry_cli import SENTRY_CLI

pytestmark = pytest.mark.tools("sentry-cli")


def cli(collector, *args):
    res = subprocess.run(
        [SENTRY_CLI, *args], env=collector.env(), capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res.stdout


def rows(table: str):
    """(issue id, short id, status) of each row of sentry-cli's issue table."""
    out = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].isdigit():
            out.append((cells[0], cells[1], cells[4]))
    return out


def test_sentry_cli_lists_resolves_unresolves_and_mutes_issues(collector):
    send(collector, release="1.0", **error())
    send(collector, release="1.0", **error(type_="KeyError", value="sku-1"))
    assert sorted(rows(cli(collector, "issues", "list"))) == [
        ("1", "LOCAL-1", "unresolved"),
        ("2", "LOCAL-2", "unresolved"),
    ]
    assert rows(cli(collector, "issues", "list", "--query", "is:unresolved KeyError")) == [
        ("2", "LOCAL-2", "unresolved")
    ]
    assert "new status: resolved" in cli(collector, "issues", "resolve", "-i", "1")
    assert [i["shortId"] for i in issues(collector, "is:resolved")] == ["LOCAL-1"]
    cli(collector, "issues", "unresolve", "-i", "1")
    assert len(issues(collector, "is:unresolved")) == 2
    cli(collector, "issues", "mute", "-i", "2")
    assert sorted(rows(cli(collector, "issues", "list"))) == [
        ("1", "LOCAL-1", "unresolved"),
        ("2", "LOCAL-2", "ignored"),
    ]
    send(collector, release="1.0", **error(type_="KeyError", value="sku-2"))
    assert collector.api("GET", "/issues/LOCAL-2/")["status"] == "ignored"
    cli(collector, "issues", "resolve", "--all")  # every unresolved issue
    assert [i["shortId"] for i in issues(collector, "is:resolved")] == ["LOCAL-1"]
    assert [i["shortId"] for i in issues(collector, "is:ignored")] == ["LOCAL-2"]
