"""Issues against a real ``releasetag serve``: grouping, short IDs, resolve and regress, the
issues API in Sentry's shapes, deploy notifications without (or with a dead) SMTP server."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
import sentry_sdk

from releasetag.collector.commitrefs import issue_refs
from releasetag.collector.grouping import fingerprint
from releasetag.collector.insights import path_matches
from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope
from tests.support.collector import Collector

ISSUES = "/projects/local/local/issues/"


def send(collector, **event):
    """Post one event envelope; returns its id."""
    dsn = Dsn.parse(collector.dsn)
    event = dict({"event_id": uuid.uuid4().hex, "level": "error", "platform": "python"}, **event)
    status, body = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=event_envelope(event).serialize(),
        headers={"X-Sentry-Auth": dsn.auth_header()},
        token=None,
    )
    assert status == 200, body
    return event["event_id"]


def error(
    type_="ValueError",
    value="bad",
    frames=(("shop/cart.py", "shop.cart", "total"),),
    lineno=10,
    **fields,
):
    """An exception event whose in-app frames are (filename, module, function) triples."""
    return dict(
        fields,
        exception={
            "values": [
                {
                    "type": type_,
                    "value": value,
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "lib/site.py",
                                "module": "site",
                                "function": "run",
                                "in_app": False,
                                "lineno": 1,
                            }
                        ]
                        + [
                            {
                                "filename": f,
                                "module": m,
                                "function": fn,
                                "lineno": lineno,
                                "in_app": True,
                            }
                            for f, m, fn in frames
                        ]
                    },
                }
            ]
        },
    )


def issues(collector, query=None, **params):
    qs = [f"query={quote(query)}"] if query is not None else []
    qs += [f"{k}={quote(v)}" for k, v in params.items()]
    return collector.api("GET", ISSUES + "?" + "&".join(qs))


def new_release(collector, version):
    collector.api(
        "POST",
        "/organizations/local/releases/",
        {"version": version, "projects": ["local"]},
        expect=201,
    )


# -- pure rules ----------------------------------------------------------------------------------
def test_fingerprint_rules():
    a = error(value="x is 1", lineno=10)
    b = error(value="x is 2", lineno=99)  # other value and line: same issue
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(error(frames=(("shop/cart.py", "shop.cart", "tax"),))) != fingerprint(a)
    assert fingerprint(error(type_="KeyError")) != fingerprint(a)
    assert fingerprint(
        {"logentry": {"message": "user %s failed", "formatted": "user 1 failed"}}
    ) == fingerprint({"logentry": {"message": "user %s failed", "formatted": "user 2 failed"}})
    assert fingerprint(dict(a, fingerprint=["db-down"])) == fingerprint(
        dict(error(type_="OSError"), fingerprint=["db-down"])
    )
    assert fingerprint(dict(a, fingerprint=["{{ default }}", "eu"])) != fingerprint(a)


def test_commit_message_references():
    assert issue_refs("Fixes LOCAL-7") == ["LOCAL-7"]
    assert issue_refs("fix local-7, closes WIDGETS-12\nResolved: my-app-3") == [
        "LOCAL-7",
        "WIDGETS-12",
        "MY-APP-3",
    ]
    for word in ("fix", "fixes", "FIXED", "Close", "closes", "closed", "resolve", "RESOLVES"):
        assert issue_refs(f"{word} SHOP-1 for good") == ["SHOP-1"], word
    assert issue_refs("hotfixes SHOP-1") == [] and issue_refs("see SHOP-1") == []
    assert issue_refs("Fixes SHOP-1; fixes SHOP-1 again") == ["SHOP-1"]


def test_path_suffix_matching():
    assert path_matches("/srv/app/shop/cart.py", "shop/cart.py")
    assert path_matches("cart.py", "src/cart.py")
    assert path_matches("shop/cart.py", "shop/cart.py")
    assert not path_matches("/srv/app/shop/mycart.py", "cart.py")
    assert not path_matches("shop/cart.py", "other/cart.py")


# -- grouping at ingest --------------------------------------------------------------------------
def test_events_group_into_issues_with_short_ids_and_counts(collector):
    send(collector, release="r1", environment="production", **error(value="a"))
    send(collector, release="r1", environment="staging", **error(value="b", lineno=50))
    send(collector, release="r2", environment="production", **error(value="c"))
    send(
        collector,
        release="r2",
        environment="production",
        **error(type_="KeyError", frames=(("shop/stock.py", "shop.stock", "reserve"),)),
    )
    send(collector, release="r2", logentry={"message": "slow %s", "formatted": "slow 1"})
    send(collector, release="r2", logentry={"message": "slow %s", "formatted": "slow 2"})
    found = {i["shortId"]: i for i in issues(collector)}
    assert set(found) == {"LOCAL-1", "LOCAL-2", "LOCAL-3"}
    first = found["LOCAL-1"]
    assert (first["count"], first["title"], first["status"]) == ("3", "ValueError: a", "unresolved")
    assert first["firstRelease"]["version"] == "r1" and first["lastRelease"]["version"] == "r2"
    assert first["firstSeen"] <= first["lastSeen"] and first["substatus"] == "ongoing"
    assert found["LOCAL-3"]["count"] == "2" and found["LOCAL-3"]["type"] == "default"
    assert found["LOCAL-2"]["metadata"]["type"] == "KeyError"
    # the release named by the first event was created on it
    release = collector.api("GET", "/organizations/local/releases/r1/")
    assert release["newGroups"] == 1 and release["eventCount"] == 2
    # filters: release, environment (in the query or as a parameter), free text
    assert [i["shortId"] for i in issues(collector, "release:r1")] == ["LOCAL-1"]
    assert [i["shortId"] for i in issues(collector, "environment:staging")] == ["LOCAL-1"]
    assert [i["shortId"] for i in issues(collector, "is:unresolved", environment="staging")] == [
        "LOCAL-1"
    ]
    assert [i["shortId"] for i in issues(collector, "KeyError")] == ["LOCAL-2"]
    assert issues(collector, "release:nope") == []
    # events of an issue, in Sentry's shape
    events = collector.api("GET", "/issues/LOCAL-1/events/")
    assert len(events) == 3 and {e["groupID"] for e in events} == {first["id"]}
    detail = collector.api("GET", f"/issues/{first['id']}/")
    assert {(r["release"], r["environment"], r["count"]) for r in detail["releases"]} == {
        ("r1", "production", 1),
        ("r1", "staging", 1),
        ("r2", "production", 1),
    }
    lookup = collector.api("GET", "/organizations/local/shortids/local-1/")
    assert (lookup["groupId"], lookup["projectSlug"]) == (first["id"], "local")


def test_sentry_sdk_fingerprints_group_across_exception_types(collector):
    sentry_sdk.init(dsn=collector.dsn, release="peer@1", default_integrations=False)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.fingerprint = ["database-unavailable"]
            for exc in (OSError("db down"), TimeoutError("db slow")):
                try:
                    raise exc
                except Exception:
                    sentry_sdk.capture_exception()
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
    [issue] = issues(collector, "release:peer@1")
    assert issue["count"] == "2"


# -- resolve, regress ----------------------------------------------------------------------------
def test_resolved_in_release_regresses_only_on_a_later_release(collector):
    for v in ("1.0", "1.1", "1.2"):
        new_release(collector, v)
    send(collector, release="1.0", **error())
    issue = collector.api(
        "PUT", "/issues/LOCAL-1/", {"status": "resolved", "statusDetails": {"inRelease": "1.1"}}
    )
    assert issue["status"] == "resolved"
    assert issue["statusDetails"] == {"inRelease": "1.1", "actor": None}
    assert issue["resolution"]["release"] == "1.1"
    send(collector, release="1.0", **error())  # older than 1.1: no (an event of 1.1 would)
    send(collector, **error())  # no release: does not reopen a release resolution
    assert collector.api("GET", "/issues/LOCAL-1/")["status"] == "resolved"
    assert issues(collector, "is:unresolved") == []
    assert [i["shortId"] for i in issues(collector, "is:resolved")] == ["LOCAL-1"]
    send(collector, release="1.2", environment="production", **error())
    issue = collector.api("GET", "/issues/LOCAL-1/")
    assert (issue["status"], issue["substatus"]) == ("unresolved", "regressed")
    assert [(r["release"], r["resolvedInRelease"]) for r in issue["regressions"]] == [
        ("1.2", "1.1")
    ]
    assert [i["shortId"] for i in issues(collector, "is:unresolved")] == ["LOCAL-1"]
    report = collector.api("GET", "/organizations/local/releases/1.2/issues/")
    assert [i["shortId"] for i in report["regressions"]] == ["LOCAL-1"]
    assert report["newIssues"] == []
    assert report["environments"] == [{"environment": "production", "events": 1, "issues": 1}]
    # reopened by hand and resolved without a release: any new event regresses it
    assert (
        collector.api("PUT", "/issues/LOCAL-1/", {"status": "unresolved"})["status"] == "unresolved"
    )
    collector.api("PUT", "/issues/LOCAL-1/", {"status": "resolved"})
    send(collector, release="1.0", **error())
    assert collector.api("GET", "/issues/LOCAL-1/")["substatus"] == "regressed"


def test_resolved_in_next_release(collector):
    new_release(collector, "2.0")
    send(collector, release="2.0", **error())
    issue = collector.api("PUT", "/issues/LOCAL-1/", {"status": "resolvedInNextRelease"})
    assert issue["statusDetails"] == {"inNextRelease": True, "actor": None}
    send(collector, release="2.0", **error())
    assert collector.api("GET", "/issues/LOCAL-1/")["status"] == "resolved"
    new_release(collector, "2.1")
    send(collector, release="2.1", **error())
    assert collector.api("GET", "/issues/LOCAL-1/")["substatus"] == "regressed"


def test_commit_message_resolves_and_lists_what_it_ignored(collector):
    new_release(collector, "3.0")
    send(collector, release="3.0", **error())
    new_release(collector, "3.1")
    collector.api(
        "PUT",
        "/organizations/local/releases/3.1/",
        {
            "commits": [
                {
                    "id": "a" * 40,
                    "repository": "acme/shop",
                    "author_name": "Ada",
                    "author_email": "ada@x.test",
                    "message": "Fixed local-1 and closes OTHER-2",
                    "patch_set": [{"path": "shop/cart.py", "type": "M"}],
                },
                {"id": "b" * 40, "repository": "acme/shop", "message": "resolves LOCAL-42"},
            ]
        },
    )
    issue = collector.api("GET", "/issues/LOCAL-1/")
    assert issue["statusDetails"] == {"inCommit": {"id": "a" * 40}, "inRelease": "3.1"}
    refs = collector.api("GET", "/organizations/local/releases/3.1/issues/")["commitIssueRefs"]
    # oldest commit first (clients send the newest first)
    assert [(r["shortId"], r["outcome"], r["commit"][0]) for r in refs] == [
        ("LOCAL-42", "ignored", "b"),
        ("LOCAL-1", "resolved", "a"),
        ("OTHER-2", "ignored", "a"),
    ]
    status, html = collector.request("GET", "/releases/3.1/", token=None)
    html = html.decode()
    assert "OTHER-2" in html and "no issue LOCAL-42" in html


# -- suspects and assignee -----------------------------------------------------------------------
def test_suspect_commits_assignee_and_committers(collector):
    new_release(collector, "4.0")
    collector.api(
        "PUT",
        "/organizations/local/releases/4.0/",
        {
            "commits": [
                {
                    "id": "c" * 40,
                    "repository": "acme/shop",
                    "author_name": "Cy",
                    "author_email": "cy@x.test",
                    "message": "Tax rules",
                    "patch_set": [{"path": "src/shop/tax.py", "type": "A"}],
                },
                {
                    "id": "d" * 40,
                    "repository": "acme/shop",
                    "author_name": "Di",
                    "author_email": "di@x.test",
                    "message": "Cart and tax",
                    "patch_set": [
                        {"path": "src/shop/cart.py", "type": "M"},
                        {"path": "src/shop/tax.py", "type": "M"},
                    ],
                },
                {
                    "id": "e" * 40,
                    "repository": "acme/shop",
                    "author_name": "Ed",
                    "message": "Docs",
                    "patch_set": [{"path": "docs/cart.py", "type": "M"}],
                },
            ]
        },
    )
    event_id = send(
        collector,
        release="4.0",
        **error(
            frames=(("shop/cart.py", "shop.cart", "total"), ("shop/tax.py", "shop.tax", "vat"))
        ),
    )
    suspects = collector.api("GET", "/issues/LOCAL-1/suspect-commits/")
    assert [(c["id"][0], c["framesTouched"]) for c in suspects] == [("d", 2), ("c", 1)]
    assert suspects[0]["files"] == ["src/shop/cart.py", "src/shop/tax.py"]
    issue = collector.api("GET", "/issues/LOCAL-1/")
    assert issue["assignedTo"]["email"] == "di@x.test"
    assert issue["assigneeSource"] == "suspect commit"
    committers = collector.api("GET", f"/projects/local/local/events/{event_id}/committers/")
    assert [c["author"]["name"] for c in committers["committers"]] == ["Di", "Cy"]
    issue = collector.api("PUT", "/issues/LOCAL-1/", {"assignedTo": "Zed <zed@x.test>"})
    assert (issue["assignedTo"]["name"], issue["assigneeSource"]) == ("Zed", "assigned")
    status, page = collector.request("GET", "/issues/LOCAL-1/", token=None)
    page = page.decode()
    assert status == 200 and "zed@x.test" in page and "d" * 12 in page
    event_page = collector.request("GET", f"/events/{event_id}/", token=None)[1].decode()
    assert 'href="/issues/1/">LOCAL-1</a>' in event_page


# -- bad input -----------------------------------------------------------------------------------
def test_bad_issue_requests(collector):
    send(collector, release="5.0", **error())
    for method, path in (
        ("GET", "/issues/999/"),
        ("GET", "/issues/LOCAL-99/"),
        ("GET", "/issues/nonsense/"),
        ("GET", "/issues/999/events/"),
        ("PUT", "/issues/999/"),
        ("GET", "/issues/LOCAL-9/suspect-commits/"),
    ):
        status, body = collector.request(method, "/api/0" + path, {} if method == "PUT" else None)
        assert status == 404 and "does not exist" in body["detail"], (path, body)
    status, body = collector.request(
        "PUT",
        "/api/0/issues/LOCAL-1/",
        {"status": "resolved", "statusDetails": {"inRelease": "no-such-release"}},
    )
    assert status == 400 and body["detail"] == "release 'no-such-release' does not exist"
    assert collector.api("GET", "/issues/LOCAL-1/")["status"] == "unresolved"
    for body_, word in (
        ({"status": "frozen"}, "frozen"),
        ({"status": ["resolved"]}, "status"),
        ({"statusDetails": "x"}, "object"),
        ({"assignedTo": 5}, "assignedTo"),
        ({"statusDetails": {"inRelease": 3}}, "inRelease"),
    ):
        status, body = collector.request("PUT", "/api/0/issues/LOCAL-1/", body_)
        assert status == 400 and word in body["detail"], body
    status, body = collector.request("GET", "/api/0" + ISSUES + "?query=owner:me")
    assert status == 400 and "owner" in body["detail"]
    assert collector.request("GET", "/api/0" + ISSUES, token=None)[0] == 401
    assert collector.request("GET", "/issues/999/", token=None)[0] == 404
    assert collector.request("GET", "/releases/nope/", token=None)[0] == 404


# -- deploy notifications ------------------------------------------------------------------------
def _commits_with_authors(collector, version):
    new_release(collector, version)
    collector.api(
        "PUT",
        f"/organizations/local/releases/{version}/",
        {
            "commits": [
                {
                    "id": "1" * 40,
                    "repository": "acme/shop",
                    "author_name": "Ada",
                    "author_email": "ada@x.test",
                    "message": "one",
                },
                {
                    "id": "2" * 40,
                    "repository": "acme/shop",
                    "author_name": "Ada",
                    "author_email": "ADA@x.test",
                    "message": "two",
                },
                {
                    "id": "3" * 40,
                    "repository": "acme/shop",
                    "author_name": "Bo",
                    "author_email": "bo@x.test",
                    "message": "three",
                },
                {"id": "4" * 40, "repository": "acme/shop", "message": "no author"},
            ]
        },
    )


def test_deploy_without_smtp_records_who_would_have_been_told(collector):
    _commits_with_authors(collector, "6.0")
    deploy = collector.api(
        "POST",
        "/organizations/local/releases/6.0/deploys/",
        {"environment": "production"},
        expect=201,
    )
    told = {(n["email"].lower(), n["status"]) for n in deploy["notifications"]}
    assert told == {("ada@x.test", "not sent"), ("bo@x.test", "not sent")}
    assert all("--smtp" in n["detail"] for n in deploy["notifications"])
    [listed] = collector.api("GET", "/organizations/local/releases/6.0/deploys/")
    assert len(listed["notifications"]) == 2
    html = collector.request("GET", "/releases/6.0/", token=None)[1].decode()
    assert "bo@x.test" in html and "not sent" in html


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_deploy_with_unreachable_smtp_records_the_failure(tmp_path):
    c = Collector(str(tmp_path / "data"), extra_args=["--smtp", f"127.0.0.1:{_closed_port()}"])
    try:
        _commits_with_authors(c, "7.0")
        deploy = c.api(
            "POST",
            "/organizations/local/releases/7.0/deploys/",
            {"environment": "staging"},
            expect=201,
        )
        assert {n["status"] for n in deploy["notifications"]} == {"failed"}
        assert all(
            "Connection" in n["detail"] or "refused" in n["detail"].lower()
            for n in deploy["notifications"]
        )
    finally:
        c.stop()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--smtp", "nohost"], "error: --smtp 'nohost' is not HOST:PORT"),
        (["--smtp", "127.0.0.1:99999"], "error: --smtp '127.0.0.1:99999' is not HOST:PORT"),
        (["--smtp", "127.0.0.1:25", "--mail-from", "nobody"], "is not an email address"),
    ],
)
def test_serve_rejects_bad_smtp_options(tmp_path, args, message):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasetag",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp_path / "d"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_bulk_update_and_duplicate_events(collector):
    event_id = send(collector, release="8.0", **error())
    send(collector, event_id=event_id, release="8.0", **error())  # the same event again
    send(collector, release="8.0", **error(type_="KeyError"))
    assert [i["count"] for i in issues(collector, "release:8.0")] == ["1", "1"]
    status, body = collector.request(
        "PUT",
        "/api/0" + ISSUES + "?id=1&id=LOCAL-2",
        {"status": "resolved", "statusDetails": {"inRelease": "8.0"}},
    )
    assert status == 200 and body == {
        "status": "resolved",
        "statusDetails": {"inRelease": "8.0", "actor": None},
    }
    assert issues(collector, "is:unresolved") == []
    # nothing changes when the request is bad
    status, body = collector.request(
        "PUT", "/api/0" + ISSUES + "?id=1&id=77", {"status": "unresolved"}
    )
    assert status == 404 and "77" in body["detail"]
    status, body = collector.request(
        "PUT", "/api/0" + ISSUES + "?id=1", {"status": "unresolved", "assignedTo": ["x"]}
    )
    assert status == 400 and "assignedTo" in body["detail"]
    assert len(issues(collector, "is:resolved")) == 2


def test_events_stored_before_grouping_are_grouped_on_the_next_start(tmp_path):
    """A collector database from before issues (events without a group) gets its events
    grouped, in the order they arrived, when the collector starts."""
    import sqlite3

    data = str(tmp_path / "old")
    c = Collector(data)
    try:
        send(c, release="0.9", **error())
        send(c, release="0.9", **error())
        send(c, release="0.9", **error(type_="KeyError"))
    finally:
        c.stop()
    db = sqlite3.connect(str(tmp_path / "old" / "collector.sqlite3"))
    with db:
        db.execute("UPDATE events SET group_id = NULL")
        db.execute("DELETE FROM groups")
    db.close()
    c = Collector(data)
    try:
        found = {i["shortId"]: i["count"] for i in issues(c, "release:0.9")}
        assert found == {"LOCAL-1": "2", "LOCAL-2": "1"}
        assert c.api("GET", "/issues/LOCAL-1/")["firstRelease"]["version"] == "0.9"
    finally:
        c.stop()
