"""Migration 9 (db/source_bundles_schema.py): source bundles stored before it (without a
kind) are marked ``sourcebundle``; other debug files keep their kind."""

from __future__ import annotations

import os
import sqlite3

from releasetag.collector.db import schema
from releasetag.collector.db.store import Store
from tests.collector.test_migrations import _data_with_fixture


def test_migration_9_marks_source_bundles_stored_before(tmp_path):
    db = os.path.join(_data_with_fixture(tmp_path), "collector.sqlite3")
    Store(db, [step for step in schema.MIGRATIONS if step[0] < 9]).close()
    conn = sqlite3.connect(db)
    project = conn.execute("SELECT id FROM projects ORDER BY id").fetchone()[0]
    rows = [("b", None, b"SYSB\x02\x00\x00\x00PK"), ("e", "elf", b"\x7fELF"),
            ("u", None, b"PK\x03\x04")]  # fmt: skip
    for checksum, kind, data in rows:
        conn.execute(
            "INSERT INTO debug_files(project_id, checksum, name, kind, size, date_added, data) "
            "VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00Z', ?)",
            (project, checksum, checksum, kind, len(data), data),
        )
    conn.commit()
    conn.close()
    store = Store(db)
    try:
        assert store.schema_versions[1] == schema.NEWEST >= 9
        kinds = {r["checksum"]: r["kind"] for r in store.debug_files(project)}
    finally:
        store.close()
    assert kinds.pop("b") == "sourcebundle" and kinds.pop("e") == "elf" and kinds.pop("u") is None
    assert "sourcebundle" not in kinds.values()  # the fixture's own debug files keep theirs
