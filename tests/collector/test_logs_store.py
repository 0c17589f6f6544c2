"""Logs in the collector's store, without a server: schema step 4 (also from a 0.1.0
database), what a log item keeps of bad input, text search with and without FTS5, paging and
trace metric aggregates."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from releasetag.collector import log_intake
from releasetag.collector.db import schema
from releasetag.collector.db.logs import LogFilter
from releasetag.collector.db.store import Store
from releasetag.protocol.envelope import Item

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "collector-0.1.0.sqlite3")


def attr(value, kind="string"):
    return {"value": value, "type": kind}


def log(body, ts=1_700_000_000.0, level="info", release="shop@1.0", **extra):
    attrs = {"sentry.release": attr(release), "sentry.environment": attr("prod")}
    attrs.update(extra.pop("attributes", {}))
    return {"timestamp": ts, "level": level, "body": body, "attributes": attrs, **extra}


def item(entries, kind="log"):
    return Item({"type": kind}, json.dumps({"items": entries}).encode())


def ingest(store, *items):
    batch = log_intake.LogItems()
    for it in items:
        batch.add(it)
    batch.store(store, 1)
    return batch


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "db.sqlite3"))
    try:
        yield s
    finally:
        s.close()


def test_a_0_1_0_database_upgrades_to_the_logs_schema(tmp_path):
    path = str(tmp_path / "collector.sqlite3")
    shutil.copyfile(FIXTURE, path)
    s = Store(path)
    try:
        assert s.schema_versions == (1, schema.NEWEST) and schema.NEWEST >= 4
        ingest(s, item([log("upgraded and logging")]))
        assert [r["body"] for r in s.find_logs(LogFilter(text="upgraded"))] == [
            "upgraded and logging"
        ]
    finally:
        s.close()
    conn = sqlite3.connect(path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"logs", "logs_fts", "metric_aggregates", "events", "releases"} <= names


def test_what_a_log_item_keeps_of_bad_input(store):
    many = {f"k{i}": attr(i, "integer") for i in range(10_000)}
    batch = ingest(
        store,
        item(
            [
                log("odd types", attributes={"a": attr(1, "complex"), "b": attr("x", "integer"),
                                             "c": attr(True, "boolean"), "d": attr([1, 2], "array")}),
                log("no time", ts=None),
                log("lone \ud800 surrogate"),
                "not an object",
                {"timestamp": 1.0},
            ]
        ),
        item([log("x" * (1024 * 1024 - 1000))]),
        item([log("many attributes", attributes=many)]),
        Item({"type": "log"}, b'{"items": [{"body": "\xff\xfe"}]}'),
        Item({"type": "log"}, b"[]"),
    )  # fmt: skip
    reasons = sorted(r for _, r in batch.rejected)
    assert reasons == [
        "log has no body",
        "log is not a JSON object",
        "payload is not valid UTF-8 JSON",
        'payload is not {"items": [...]}',
    ]
    rows = {r["body"][:20]: r for r in store.find_logs(LogFilter(), 100)}
    kept = json.loads(rows["odd types"]["attributes"])
    assert sorted(kept) == ["c", "d", "sentry.environment", "sentry.release"]
    assert rows["no time"]["timestamp"] == pytest.approx(batch.received)
    assert len(rows["x" * 20]["body"]) == log_intake.MAX_BODY + 3
    assert len(json.loads(rows["many attributes"]["attributes"])) == log_intake.MAX_ATTRIBUTES
    assert rows["lone \ufffd surrogate"]["release"] == "shop@1.0"
    counted = {(r["item_type"], r["reason"]): r["count"] for r in store.rejected_counts(1)}
    assert counted[("log", "log has no body")] == 1


def test_an_item_over_a_megabyte_is_rejected_with_its_reason(store):
    batch = ingest(store, item([log("y" * (1024 * 1024 + 10))]), item([log("small one")]))
    assert batch.rejected == [("log", f"payload is over {log_intake.MAX_ITEM} bytes")]
    assert [r["body"] for r in store.find_logs(LogFilter())] == ["small one"]


def test_search_filters_and_paging_newest_first(store):
    entries = [log(f"order {i} shipped", ts=1_700_000_000 + i) for i in range(30)]
    entries += [
        log("payment declined for card", level="error", release="shop@2.0", ts=1_800_000_000),
        log("Payment retried 100% ok_done", level="warning", release="shop@2.0", ts=1_800_000_001),
    ]
    ingest(store, item(entries))
    page1 = store.find_logs(LogFilter(text="shipped"), 10, 0)
    page3 = store.find_logs(LogFilter(text="shipped"), 10, 20)
    assert [r["body"] for r in page1][:2] == ["order 29 shipped", "order 28 shipped"]
    assert [r["body"] for r in page3][-1] == "order 0 shipped"
    assert store.count_logs(LogFilter(text="shipped", release="shop@1.0")) == 30
    assert [r["level"] for r in store.find_logs(LogFilter(text="payment"))] == ["warn", "error"]
    assert store.log_level_counts("shop@2.0") == {"error": 1, "warn": 1}
    # the LIKE fallback (SQLite without FTS5) matches substrings: it finds what the index finds
    for text in ("payment", "100%", "ok_done", "order 7", 'declined "card'):
        found = {}
        for fts in (True, False):
            flt = LogFilter(text=text.replace('"', "") if not fts else text)
            source, params, _ = flt.where(fts)
            found[fts] = {r[0] for r in store.query(f"SELECT logs.body{source}", params)}
        assert found[True] and found[True] <= found[False], (text, found)


def test_metric_aggregates_per_release(store):
    def metric(name, kind, value, ts, release="shop@1.0"):
        return {"name": name, "type": kind, "value": value, "timestamp": ts, "unit": "ms",
                "attributes": {"sentry.release": attr(release)}}  # fmt: skip

    batch = ingest(
        store,
        item(
            [
                metric("latency", "distribution", 5, 10),
                metric("latency", "distribution", 1, 12),
                metric("latency", "distribution", 9, 11),
                metric("latency", "bogus", 9, 11),
                metric("queue", "gauge", 3, 10, release="shop@2.0"),
            ],
            "trace_metric",
        ),
    )
    assert len(batch.rejected) == 1
    (row,) = store.metric_aggregates("shop@1.0")
    assert (row["count"], row["sum"], row["min"], row["max"], row["last"]) == (3, 15, 1, 9, 1)


def test_logs_of_one_microsecond_beyond_the_id_space_are_all_kept_in_order(store):
    ingest(store, item([log(f"same instant {i}", ts=1_700_000_000.5) for i in range(1000)]))
    ingest(store, item([log(f"same instant {i}", ts=1_700_000_000.5) for i in range(1000, 1500)]))
    ingest(store, item([log("a moment later", ts=1_700_000_000.6)]))
    rows = store.find_logs(LogFilter(text="instant"), 1000)
    assert store.count_logs(LogFilter()) == 1501
    assert store.find_logs(LogFilter(), 1)[0]["body"] == "a moment later"
    assert len({r["id"] for r in rows}) == 1000
