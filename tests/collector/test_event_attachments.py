"""Attachments (``add_attachment``) reach ``releasetag serve``: the event's Web API JSON lists
them, its page links each one, and the link downloads the bytes as a file."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

import releasetag
from releasetag.collector.db import schema
from releasetag.collector.db.store import Store
from tests.collector.test_migrations import FIXTURE


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_attachments_are_stored_listed_and_downloadable(collector):
    with releasetag.init(collector.dsn, release="att@1", default_integrations=False):
        with releasetag.new_scope() as scope:
            scope.add_attachment(bytes=b"<script>x</script>\n", filename="notes <1>.html")
            scope.add_attachment(bytes=b"a,b\n", filename="cart.csv", content_type="text/csv")
            event_id = releasetag.capture_message("checkout failed")
    event = collector.event(event_id)
    listed = [(a["filename"], a["content_type"], a["size"]) for a in event["attachments"]]
    assert listed == [
        ("notes <1>.html", "application/octet-stream", 19),
        ("cart.csv", "text/csv", 4),
    ]
    status, page = collector.request("GET", f"/events/{event_id}/", token=None)
    assert status == 200 and b"notes &lt;1&gt;.html" in page and b"<script>x" not in page
    first = event["attachments"][0]["id"]
    link = f"/events/{event_id}/attachments/{first}/".encode()
    assert link in page
    status, body = collector.request("GET", link.decode(), token=None)
    assert (status, body) == (200, b"<script>x</script>\n")
    status, _ = collector.request("GET", f"/events/{event_id}/attachments/999/", token=None)
    assert status == 404


def test_migration_3_indexes_attachments_by_event(tmp_path):
    path = str(tmp_path / "collector.sqlite3")
    shutil.copyfile(FIXTURE, path)
    Store(path).close()
    conn = sqlite3.connect(path)
    try:
        assert schema.read_version(conn) == schema.NEWEST >= 3
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM attachments WHERE event_id = ? ORDER BY id", ("x",)
        ).fetchall()
    finally:
        conn.close()
    assert "attachments_event" in str(plan)
