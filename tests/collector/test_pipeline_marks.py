"""Rollbacks, the environments regressions respect, releases only seen in events and JS events
whose debug IDs match no artifact: against a real collector, through its Web API and pages;
and schema step 6 from a 0.1.0 database."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from releasetag.collector.db import pipeline
from releasetag.collector.db.store import Store
from tests.collector.test_issues import error, issues, new_release, send

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "collector-0.1.0.sqlite3")
REL = "/organizations/local/releases/"


def _deploy(collector, version, env):
    return collector.api("POST", f"{REL}{version}/deploys/", {"environment": env}, expect=201)


def _issue(collector):
    return collector.api("GET", "/issues/LOCAL-1/")


def test_rollbacks_and_the_environments_a_regression_respects(collector):
    # created out of order: the version decides which is newer, not creation
    for version in ("shop@2.0.0", "shop@1.10.0", "shop@1.9.0"):
        new_release(collector, version)
    assert _deploy(collector, "shop@1.10.0", "production")["rollbackFrom"] is None
    back = _deploy(collector, "shop@1.9.0", "production")
    assert back["rollbackFrom"] == "shop@1.10.0"
    assert _deploy(collector, "shop@1.9.0", "eu")["rollbackFrom"] is None
    _deploy(collector, "shop@1.10.0", "staging")
    listed = collector.api("GET", f"{REL}shop@1.9.0/deploys/")
    assert sorted((d["environment"], d["rollbackFrom"]) for d in listed) == [
        ("eu", None),
        ("production", "shop@1.10.0"),
    ]
    status, page = collector.request("GET", "/releases/shop@1.9.0/", token=None)
    assert status == 200
    assert b"Rollback: deployed to production at" in page and b"back from shop@1.10.0" in page

    send(collector, release="shop@1.9.0", environment="production", **error())
    collector.api(
        "PUT",
        "/issues/LOCAL-1/",
        {"status": "resolved", "statusDetails": {"inRelease": "shop@1.10.0"}},
    )
    # the old release still running after the rollback: counted, not a regression
    send(collector, release="shop@1.9.0", environment="production", **error())
    # the fixed release, but in an environment it was never deployed to
    send(collector, release="shop@1.10.0", environment="eu", **error())
    issue = _issue(collector)
    assert issue["status"] == "resolved" and issue["count"] == "3"
    assert issues(collector, "is:unresolved") == []
    # the fixed release itself, where it was deployed: the fix did not hold
    send(collector, release="shop@1.10.0", environment="staging", **error())
    issue = _issue(collector)
    assert (issue["status"], issue["substatus"]) == ("unresolved", "regressed")
    assert [
        (r["release"], r["environment"], r["resolvedInRelease"]) for r in issue["regressions"]
    ] == [("shop@1.10.0", "staging", "shop@1.10.0")]
    status, page = collector.request("GET", "/issues/LOCAL-1/", token=None)
    assert b"why regressed" in page
    assert (
        b"an event of release shop@1.10.0 in environment staging (resolved in shop@1.10.0)" in page
    )


def test_an_environment_without_deploys_follows_the_release_rule_alone(collector):
    new_release(collector, "api@1.0.0")
    send(collector, release="api@1.0.0", **error())
    collector.api(
        "PUT", "/issues/LOCAL-1/", {"status": "resolved", "statusDetails": {"inNextRelease": True}}
    )
    send(collector, release="api@1.0.0", **error())
    assert _issue(collector)["status"] == "resolved"
    new_release(collector, "api@1.1.0")
    send(collector, release="api@1.1.0", **error())
    assert _issue(collector)["substatus"] == "regressed"


def test_releases_only_seen_in_events_and_unmatched_debug_ids_are_marked(collector):
    new_release(collector, "web@1.0.0")
    image = {
        "type": "sourcemap",
        "debug_id": "c0ffee00-0000-4000-8000-000000000001",
        "code_file": "app.js",
    }
    send(
        collector,
        release="web@1.0.0",
        platform="javascript",
        debug_meta={"images": [image]},
        **error(),
    )
    send(collector, release="web@1.0.0", platform="javascript", **error())  # no debug IDs
    send(collector, release="web@1.0", **error())  # the runtime's name differs from the pipeline's
    made = collector.api("GET", f"{REL}web@1.0.0/")["pipeline"]
    assert made["seenOnlyInEvents"] is False
    assert (made["jsEventsChecked"], made["jsEventsWithoutArtifacts"]) == (1, 1)
    stray = collector.api("GET", f"{REL}web@1.0/")["pipeline"]
    assert stray["seenOnlyInEvents"] is True
    status, page = collector.request("GET", "/releases/web@1.0/", token=None)
    assert status == 200 and b"Only seen in events: no pipeline created this release" in page
    status, page = collector.request("GET", "/releases/web@1.0.0/", token=None)
    assert (
        b"1 of the last 1 JavaScript events have debug IDs that match no uploaded artifact" in page
    )
    assert b"Only seen in events" not in page


def test_step_6_upgrades_a_0_1_0_database(tmp_path):
    db = str(tmp_path / "collector.sqlite3")
    shutil.copyfile(FIXTURE, db)
    store = Store(db)
    store.close()
    conn = sqlite3.connect(db)
    try:
        marks = dict(conn.execute("SELECT version, pipeline FROM releases"))
        # each release of the fixture has commits, deploys or artifacts: a pipeline made it
        assert marks == {"shop@1.0.0": 1, "shop@1.1.0": 1, "shop@2.0.0": 1}
        assert (
            conn.execute("SELECT COUNT(*) FROM deploys WHERE rollback_from IS NULL").fetchone()[0]
            == 2
        )
    finally:
        conn.close()


@pytest.mark.parametrize(
    "a, b, older",
    [
        ("shop@1.9.0", "shop@1.10.0", True),
        ("shop@1.0.0-rc.1", "shop@1.0.0", True),
        ("shop@1.0.0+build.7", "shop@1.0.0+build.8", None),
        ("shop@2", "shop@1.9.9", False),
        ("shop@1.0", "web@2.0", None),
        ("nightly", "shop@1.0", None),
    ],
)
def test_version_keys(a, b, older):
    ka, kb = pipeline.version_key(a), pipeline.version_key(b)
    if older is None:
        assert not (ka and kb and ka[0] == kb[0] and ka[1] != kb[1])
    else:
        assert ka and kb and (ka[1] < kb[1]) is older
