"""Shared fixtures: a recording server process per test (or module) and a clean environment."""

from __future__ import annotations

import logging
import os
import traceback

import pytest

from tests.support.recorder import Recorder

_ENV_PREFIXES = ("RELEASETAG_", "SENTRY_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path_factory):
    """No test sees the developer's or CI's release, DSN or CI variables; crash records
    (native_crashes.py) go to the test session's folder, not the user's."""
    from releasetag.detect.release import CI_VARIABLES

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in CI_VARIABLES or name == "GITHUB_EVENT_PATH":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))
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


#: fixtures that run an outside program: a test using one is part of the full run only
_TOOL_FIXTURES = {"sentry_cli": "sentry-cli", "gcc_binaries": "gcc", "redis_server": "redis"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test that needs an outside program (``@pytest.mark.tools("node")``, or a fixture of
    ``_TOOL_FIXTURES``) is also ``slow``: ``-m "not slow"`` needs only Python and the test
    extra's Python packages."""
    for item in items:
        if item.get_closest_marker("tools") is None:
            used = [tool for name, tool in _TOOL_FIXTURES.items() if name in item.fixturenames]
            if not used:
                continue
            item.add_marker(pytest.mark.tools(*used))
        if item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


_shared_recorder: list = []


@pytest.fixture
def recorder():
    """The recording server, shared by the tests of a session: each test finds it empty (no
    requests, no scripted answers). A test that stops or restarts it gets it back alive: a
    stopped one is replaced for the next test."""
    if _shared_recorder and _shared_recorder[0].proc.poll() is None:
        rec = _shared_recorder[0]
        rec.reset()
    else:
        rec = Recorder()
        _shared_recorder[:] = [rec]
    yield rec
    if rec.proc.poll() is not None:
        _shared_recorder.clear()


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_recorder():
    yield
    for rec in _shared_recorder:
        rec.stop()


@pytest.fixture
def redis_server():
    """A real redis-server on a free 127.0.0.1 port (Celery tests), stopped after the test."""
    from tests.integrations.celery_fixtures import RedisServer

    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()
