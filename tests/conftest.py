"""Shared fixtures: a recording server process per test (or module) and a clean environment."""

from __future__ import annotations

import os

import pytest

from tests.support.recorder import Recorder

_ENV_PREFIXES = ("RELEASETAG_", "SENTRY_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No test sees the developer's or CI's release, DSN or CI variables."""
    from releasetag.protocol.release import CI_VARIABLES

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in CI_VARIABLES or name == "GITHUB_EVENT_PATH":
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(autouse=True)
def _fresh_scopes():
    """Each test starts with empty global and root isolation scopes."""
    from releasetag.scope import reset_all_scopes

    reset_all_scopes()
    yield


@pytest.fixture
def recorder():
    rec = Recorder()
    try:
        yield rec
    finally:
        rec.stop()
