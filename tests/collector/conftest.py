"""Fixtures: a real ``releasetag serve`` subprocess per test, in its own data folder."""

from __future__ import annotations

import pytest

from tests.support.collector import Collector


@pytest.fixture
def collector(tmp_path):
    c = Collector(str(tmp_path / "data"))
    try:
        yield c
    finally:
        c.stop()
