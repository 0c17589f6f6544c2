"""Fixtures: a real ``releasetag serve`` subprocess per test, in its own data folder, and a
bare SQLite store for tests of the store itself."""

from __future__ import annotations

import pytest

from releasetag.collector.db.store import Store
from tests.support.collector import Collector


@pytest.fixture
def collector(tmp_path):
    c = Collector(str(tmp_path / "data"))
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "db.sqlite3"))
    try:
        yield s
    finally:
        s.close()
