"""Logging integration: breadcrumbs, events, dictConfig, broken records, no feedback loops."""

from __future__ import annotations

import io
import logging
import logging.config

import pytest

import releasetag
from releasetag.integrations.logging import LoggingIntegration, ignore_logger

from .conftest import flushed_events, relay_errors


@pytest.fixture
def app_log():
    logger = logging.getLogger("app.orders")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    yield logger
    logger.handlers.clear()
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def test_info_is_breadcrumb_and_error_is_event(rt, recorder, app_log):
    rt()
    app_log.debug("not recorded: below level")
    app_log.info("order %s paid", 17, extra={"order_id": 17, "customer": "acme"})
    app_log.error("payment %s failed for %r", "p-1", {"amount": 3}, extra={"gateway": "stripe"})
    (event,) = flushed_events(recorder, 1)
    assert event["release"] == "myapp@1.2.3" and event["environment"] == "testing"
    assert event["logger"] == "app.orders"
    assert event["level"] == "error"
    assert event["logentry"]["message"] == "payment %s failed for %r"
    assert event["logentry"]["params"] == ["p-1", {"amount": 3}]
    assert event["logentry"]["formatted"] == "payment p-1 failed for {'amount': 3}"
    assert event["extra"]["gateway"] == "stripe"
    crumbs = event["breadcrumbs"]["values"]
    assert [c["message"] for c in crumbs] == ["order 17 paid"]
    assert crumbs[0]["category"] == "app.orders" and crumbs[0]["level"] == "info"
    assert crumbs[0]["type"] == "log"
    assert crumbs[0]["data"] == {"order_id": 17, "customer": "acme"}
    assert relay_errors(event) is None


def test_exc_info_becomes_exception_event(rt, recorder, app_log):
    rt()
    try:
        {}["missing"]
    except KeyError:
        app_log.exception("lookup failed for %s", "missing")
    (event,) = flushed_events(recorder, 1)
    (exc,) = event["exception"]["values"]
    assert exc["type"] == "KeyError"
    assert exc["mechanism"]["type"] == "logging"
    assert exc["mechanism"]["handled"] is True
    assert event["logentry"]["formatted"] == "lookup failed for missing"
    assert event["logger"] == "app.orders"
    assert exc["stacktrace"]["frames"][-1]["function"].endswith(
        "test_exc_info_becomes_exception_event"
    )
    assert relay_errors(event) is None


def test_works_with_dictconfig_and_keeps_app_handlers(rt, recorder):
    stream = io.StringIO()
    rt()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "mem": {"class": "logging.StreamHandler", "stream": stream, "level": "INFO"}
            },
            "loggers": {"svc": {"handlers": ["mem"], "level": "INFO", "propagate": False}},
        }
    )
    try:
        svc = logging.getLogger("svc.jobs")
        svc.info("job started")
        svc.critical("job %d crashed", 9)
        (event,) = flushed_events(recorder, 1)
        assert event["level"] == "fatal"
        assert event["logentry"]["formatted"] == "job 9 crashed"
        assert [c["message"] for c in event["breadcrumbs"]["values"]] == ["job started"]
        assert stream.getvalue().splitlines() == ["job started", "job 9 crashed"]
    finally:
        logging.getLogger("svc").handlers.clear()


class Unprintable:
    def __str__(self):
        raise RuntimeError("no str")

    def __repr__(self):
        raise RuntimeError("no repr")


def test_broken_records_never_raise_and_give_valid_events(rt, recorder, app_log):
    rt()
    # pytest's capture handlers re-raise formatting errors; keep only a NullHandler here
    app_log.handlers[:] = [logging.NullHandler()]
    app_log.error("%d widgets", "x")  # wrong type for the format
    app_log.error("%s and %s", "only one")  # too few arguments
    app_log.error(Unprintable())  # unprintable message
    app_log.error("value: %s", Unprintable())  # unprintable argument
    app_log.error(12345)  # non-str message
    events = flushed_events(recorder, 5)
    by_message = {e["logentry"]["message"]: e for e in events}
    assert by_message["%d widgets"]["logentry"]["formatted"].startswith("%d widgets")
    assert "'x'" in by_message["%d widgets"]["logentry"]["formatted"]
    assert by_message["%s and %s"]["logentry"]["params"] == ["only one"]
    assert by_message["12345"]["logentry"]["formatted"] == "12345"
    assert any("repr failed" in m for m in by_message)
    for event in events:
        assert event["release"] == "myapp@1.2.3"
        assert isinstance(event["logentry"]["formatted"], str)
        assert relay_errors(event) is None


def test_sdk_and_urllib3_loggers_and_ignored_loggers_never_feed_back(rt, recorder, app_log):
    rt()
    ignore_logger("noisy")
    for name in (
        "releasetag",
        "releasetag.transport",
        "urllib3.connectionpool",
        "noisy",
        "noisy.child",
    ):
        other = logging.getLogger(name)
        other.setLevel(logging.INFO)
        other.info("crumb from %s", name)
        other.error("error from %s", name)
    app_log.error("the only event")
    (event,) = flushed_events(recorder, 1)
    assert releasetag.flush(5)  # all that was captured is delivered, and so recorded
    assert len(recorder.events()) == 1
    assert event["logentry"]["formatted"] == "the only event"
    assert "breadcrumbs" not in event


def test_log_call_while_capturing_does_not_recurse(rt, recorder, app_log):
    def before_send(event, hint):
        app_log.error("logged inside before_send")  # would recurse without the guard
        return event

    rt(before_send=before_send)
    app_log.error("outer")
    (event,) = flushed_events(recorder, 1)
    assert releasetag.flush(5)  # all that was captured is delivered, and so recorded
    assert len(recorder.events()) == 1
    assert event["logentry"]["formatted"] == "outer"


def test_explicit_levels_override_the_default(rt, recorder, app_log):
    rt(integrations=[LoggingIntegration(level=logging.WARNING, event_level=logging.CRITICAL)])
    app_log.info("no crumb")
    app_log.warning("a crumb")
    app_log.error("not an event")
    releasetag.capture_message("marker")
    (event,) = flushed_events(recorder, 1)
    assert event["logentry"]["formatted"] == "marker"
    assert [c["message"] for c in event["breadcrumbs"]["values"]] == ["a crumb", "not an event"]
