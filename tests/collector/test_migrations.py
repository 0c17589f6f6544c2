"""Schema migrations: a database written by 0.1.0 (``fixtures/collector-0.1.0.sqlite3``, made
by ``fixtures/make_v010_db.py`` with the 0.1.0 code) opens in a real collector with all its
data; a newer database is refused untouched; a failing step leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from releasetag.collector.db import schema
from releasetag.collector.db.store import Store
from tests.collector.fixtures.make_v010_db import EXPECTED
from tests.support.collector import ROOT, Collector

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "collector-0.1.0.sqlite3")

pytestmark = pytest.mark.timeout(120)


def _data_with_fixture(tmp_path) -> str:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURE, data / "collector.sqlite3")
    return str(data)


def _version(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return schema.read_version(conn)
    finally:
        conn.close()


def test_the_fixture_is_a_0_1_0_database():
    assert _version(FIXTURE) == 1


def test_a_0_1_0_database_opens_with_all_its_data(tmp_path):
    data = _data_with_fixture(tmp_path)
    c = Collector(data)
    try:
        releases = c.api("GET", "/organizations/local/releases/")
        assert sorted(r["version"] for r in releases) == EXPECTED["releases"]
        by_version = {r["version"]: r for r in releases}
        assert by_version[EXPECTED["finalized"]]["dateReleased"] == "2026-01-02T03:04:05Z"
        for version, keys in EXPECTED["commits"].items():
            commits = c.api("GET", f"/organizations/local/releases/{version}/commits/")
            assert [x["id"] for x in commits] == keys
            assert by_version[version]["commitCount"] == len(keys)
        cart = c.api("GET", "/organizations/local/releases/shop@1.0.0/commits/")[0]
        assert cart["patch_set"] == [{"path": "shop/cart.py", "type": "M"}]
        for version, envs in EXPECTED["deploys"].items():
            deploys = c.api("GET", f"/organizations/local/releases/{version}/deploys/")
            assert sorted(d["environment"] for d in deploys) == envs
            assert all(len(d["notifications"]) == 2 for d in deploys)
        for short_id, status in EXPECTED["issues"].items():
            issue = c.api("GET", f"/issues/{short_id}/")
            assert (issue.get("substatus") if status == "regressed" else issue["status"]) == status
        assert len(c.events(limit="100")) == EXPECTED["event_count"]
        for version, names in EXPECTED["files"].items():
            files = c.api("GET", f"/organizations/local/releases/{version}/files/")
            assert sorted(f["name"] for f in files) == names
        difs = c.api("GET", "/projects/local/local/files/dsyms/")
        assert [d["debugId"] for d in difs] == [EXPECTED["dif_debug_id"]]
        health = {r["version"]: any(p["hasHealthData"] for p in r["projects"]) for r in releases}
        assert sorted(v for v, has in health.items() if has) == EXPECTED["session_releases"]
        status, page = c.request("GET", "/releases/shop@1.0.0/", token=None)
        assert status == 200 and b"c0ffee02" in page and b"ann@example.com" in page
        # and it keeps taking data
        c.api("POST", "/organizations/local/releases/", {"version": "shop@3.0.0"}, expect=201)
    finally:
        c.stop()
    assert _version(os.path.join(data, "collector.sqlite3")) == schema.NEWEST


def test_a_database_of_a_newer_releasetag_is_refused_untouched(tmp_path):
    data = _data_with_fixture(tmp_path)
    db = os.path.join(data, "collector.sqlite3")
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.NEWEST + 1),)
    )
    conn.commit()
    conn.close()
    os.chmod(data, 0o700)  # already private: no "tightened" note before the error
    os.chmod(db, 0o600)
    before = open(db, "rb").read()
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "serve", "--port", "0", "--data", data],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "newer releasetag" in lines[0] and f"schema version {schema.NEWEST + 1}" in lines[0]
    assert open(db, "rb").read() == before
    assert sorted(os.listdir(data)) == ["collector.sqlite3"]


def _fail(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE half_done (x)")
    raise sqlite3.OperationalError("step 4 failed")


@pytest.mark.parametrize(
    "bad_step", ["CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1)", _fail]
)
def test_a_failing_step_rolls_the_whole_upgrade_back(tmp_path, bad_step):
    db = os.path.join(_data_with_fixture(tmp_path), "collector.sqlite3")
    steps = schema.MIGRATIONS + [(3, "CREATE TABLE step_three (x)"), (4, bad_step)]
    with pytest.raises(sqlite3.OperationalError):
        Store(db, steps)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert _version(db) == 1
    assert "step_three" not in tables and "half_done" not in tables
    assert "releases_created" not in tables  # step 2's index went too
    store = Store(db)  # and the real upgrade still works afterwards
    try:
        assert store.get_meta("schema_version") == str(schema.NEWEST)
        assert store.count_releases() == len(EXPECTED["releases"])
    finally:
        store.close()


def test_a_new_database_starts_at_the_newest_version(tmp_path):
    store = Store(str(tmp_path / "new.sqlite3"))
    try:
        assert store.get_meta("schema_version") == str(schema.NEWEST)
        assert store.schema_versions == (0, schema.NEWEST)
    finally:
        store.close()
    store = Store(str(tmp_path / "new.sqlite3"))
    try:
        assert store.schema_versions == (schema.NEWEST, schema.NEWEST)
    finally:
        store.close()
