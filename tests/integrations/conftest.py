"""Fixtures for integration tests: an initialised SDK pointed at the recording server."""

from __future__ import annotations

import pytest

import releasetag
from releasetag import scope as scope_mod


@pytest.fixture
def rt(recorder):
    """``rt(**options)`` initialises releasetag against ``recorder``; closed afterwards."""

    def start(**options):
        options.setdefault("release", "myapp@1.2.3")
        options.setdefault("environment", "testing")
        return releasetag.init(recorder.dsn(), **options)

    try:
        yield start
    finally:
        releasetag.close(2)
        scope_mod.reset_all_scopes()


def flushed_events(recorder, count, timeout=10.0):
    """Flush, then wait until the recorder has ``count`` events; return them."""
    releasetag.flush(5)
    return recorder.wait_for(
        lambda r: (lambda ev: ev if len(ev) >= count else None)(r.events()), timeout=timeout
    )


def relay_errors(event):
    """What Relay's normalizer objects to in ``event`` (None: a valid event)."""
    from sentry_relay import StoreNormalizer

    return StoreNormalizer().normalize_event(event).get("errors")
