"""The collector's SQLite store: group commit under concurrency, failures stay isolated."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest

from releasetag.collector.ingest import summarize


def _event(release="r@1"):
    event = {"event_id": uuid.uuid4().hex, "message": "m", "release": release}
    return event, summarize(event, event["event_id"])


def test_concurrent_inserts_are_all_committed_once(store):
    project = store.ensure_project("p", "p", "key")
    events = [_event() for _ in range(400)]
    results = []
    lock = threading.Lock()

    def worker(chunk):
        for event, summary in chunk:
            ok = store.insert_event(project["id"], event, summary)
            again = store.insert_event(project["id"], event, summary)
            with lock:
                results.append((ok, again))
        store.close_thread()

    threads = [threading.Thread(target=worker, args=(events[i::16],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count((True, False)) == 400
    assert store.count_events() == 400
    assert [r["version"] for r in store.releases()] == ["r@1"]
    assert [p["slug"] for p in store.release_projects(store.release("r@1")["id"])] == ["p"]


def test_a_failing_piece_of_work_is_rolled_back_alone(store):
    project = store.ensure_project("p", "p", "key")

    def bad(conn):
        conn.execute("INSERT INTO meta(key, value) VALUES ('half', 'done')")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        store.group_write(bad)
    assert store.get_meta("half") is None
    event, summary = _event()
    assert store.insert_event(project["id"], event, summary) is True
    assert store.event(event["event_id"])["message"] == "m"


def test_a_deploy_and_its_notification_records_are_stored_together(store):
    store.upsert_release("d@1", [], {})
    release_id = store.release("d@1")["id"]
    bad = [{"name": "A", "email": None, "status": "sent", "detail": None}]  # email NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.add_deploy("d@1", {"environment": "prod"}, bad)
    assert store.deploys(release_id) == []
    good = [{"name": "A", "email": "a@example.com", "status": "sent", "detail": None}]
    row = store.add_deploy("d@1", {"environment": "prod"}, good)
    [told] = store.deploy_notifications([row["id"]])[row["id"]]
    assert (told["email"], told["status"]) == ("a@example.com", "sent")
    assert [d["id"] for d in store.deploys(release_id)] == [row["id"]]
