"""Migration 7 (db/page_queries.py): a database of the version before gets the pages'
indexes, keeps its data, and the upgrade is recorded."""

from __future__ import annotations

import os
import sqlite3

from releasetag.collector.db import page_queries, schema
from releasetag.collector.db.store import Store
from tests.collector.test_migrations import EXPECTED, _data_with_fixture


def _indexes(db: str) -> set:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()


def test_migration_7_adds_the_pages_indexes_and_keeps_the_data(tmp_path):
    db = os.path.join(_data_with_fixture(tmp_path), "collector.sqlite3")
    before = [step for step in schema.MIGRATIONS if step[0] < 7]
    Store(db, before).close()
    wanted = {s.split(" ON ")[0].split()[-1] for s in schema.statements(page_queries.V7)}
    assert len(wanted) >= 8 and not wanted & _indexes(db)
    store = Store(db)
    try:
        assert store.schema_versions[1] == schema.NEWEST >= 7
        assert store.count_releases() == len(EXPECTED["releases"])
    finally:
        store.close()
    assert wanted - {"events_group_received"} <= _indexes(db)  # step 8 drops that one
