"""Grouping and commit references in the store itself (in process): several projects, short
IDs per project, references to another project's issue, grouping under concurrent ingest."""

from __future__ import annotations

import threading
import uuid

from releasetag.collector import insights
from releasetag.collector.ingest import summarize


def _ingest(store, project_id, release, type_="ValueError"):
    event = {
        "event_id": uuid.uuid4().hex,
        "release": release,
        "exception": {
            "values": [
                {
                    "type": type_,
                    "value": "v",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app.py",
                                "module": "app",
                                "function": "run",
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        },
    }
    store.insert_event(project_id, event, summarize(event, event["event_id"]))
    return event["event_id"]


def test_short_ids_count_per_project_and_other_projects_issues_are_ignored(store):
    web = store.ensure_project("web", "web", "k1")
    shop = store.ensure_project("shop", "shop", "k2")
    _ingest(store, web["id"], "w@1")
    _ingest(store, shop["id"], "s@1")
    _ingest(store, shop["id"], "s@1", "KeyError")
    assert [insights.short_id_of(store, g) for g in insights.issues(store, shop["id"])] == [
        "SHOP-2",
        "SHOP-1",
    ]
    assert insights.group(store, "web-1")["project_id"] == web["id"]
    store.upsert_release("w@2", [web["id"]], {})
    store.set_release_commits(
        "w@2", [{"id": "f" * 40, "message": "Fixes SHOP-1, fixes WEB-1", "repository": "acme/web"}]
    )
    refs = {r["short_id"]: r for r in insights.release_report(store, store.release("w@2"))["refs"]}
    assert refs["WEB-1"]["outcome"] == "resolved"
    assert refs["SHOP-1"]["outcome"] == "ignored"
    assert refs["SHOP-1"]["reason"] == (
        "issue of project 'shop', which is not a project of this release"
    )
    assert insights.group(store, "SHOP-1")["status"] == "unresolved"
    assert insights.group(store, "WEB-1")["status"] == "resolved"


def test_concurrent_ingest_makes_one_issue_with_every_event(store):
    project = store.ensure_project("p", "p", "key")
    threads = [
        threading.Thread(target=lambda: [_ingest(store, project["id"], "r@1") for _ in range(25)])
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    [issue] = insights.issues(store, project["id"])
    assert issue["times_seen"] == 200 and issue["short_num"] == 1
    assert store.query_one("SELECT COUNT(*) AS n FROM events WHERE group_id IS NULL")["n"] == 0
