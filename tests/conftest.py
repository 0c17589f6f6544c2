"""Shared fixtures: a recording server process per test (or module) and a clean environment."""

from __future__ import annotations

import logging
import os
import traceback

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


class _InternalErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _internal_errors(request):
    """The SDK never raises into the host app, so it catches its own failures
    (``protocol.log.internal_error``); a test run must still see them: the test that caused
    one fails. Tests that provoke one on purpose say so with
    ``@pytest.mark.internal_errors_expected``."""
    logger = logging.getLogger("releasetag.internal")
    handler = _InternalErrors()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if handler.records and not request.node.get_closest_marker("internal_errors_expected"):
        shown = []
        for record in handler.records[:3]:
            shown.append(record.getMessage())
            if record.exc_info:
                shown.append("".join(traceback.format_exception(*record.exc_info)))
        pytest.fail("releasetag caught internal exceptions:\n" + "\n".join(shown))


@pytest.fixture
def recorder():
    rec = Recorder()
    try:
        yield rec
    finally:
        rec.stop()
