"""releasetag.logger, the logging integration's Sentry Logs, structlog, attributes, options
(in process, through the capturing transport; what reaches a server is in test_logs_parity)."""

from __future__ import annotations

import logging

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import releasetag
from releasetag.integrations.logging import LoggingIntegration
from releasetag.integrations.structlog import SentryLogsProcessor
from releasetag.testing import CapturingTransport


@pytest.fixture
def transport():
    made = []

    def init(**options):
        releasetag.init(transport=CapturingTransport, **options)
        made.append(releasetag.get_client().transport)
        return made[-1]

    yield init
    releasetag.close()


def _logs(t):
    releasetag.flush()
    return t.logs


def test_nothing_is_sent_unless_logs_are_enabled(transport, monkeypatch):
    t = transport()
    releasetag.logger.info("quiet")
    assert _logs(t) == []
    monkeypatch.setenv("RELEASETAG_ENABLE_LOGS", "1")
    t = transport()
    releasetag.logger.info("loud")
    assert [log["body"] for log in _logs(t)] == ["loud"]


def test_template_parameters_and_attributes(transport):
    t = transport(enable_logs=True, release="shop@1")
    releasetag.logger.warning("user {name} ({id})", name="ann", id=7, attributes={"x": 1.5})
    releasetag.logger.info("{0} positional", x=1)
    releasetag.logger.error("no params {here}")

    class Hostile:
        def __format__(self, spec):
            raise RuntimeError("no")

        def __repr__(self):
            raise RuntimeError("no repr either")

    releasetag.logger.info("value {v}", v=Hostile())
    first, second, third, fourth = _logs(t)
    assert fourth["body"] == "value {v}"
    assert fourth["attributes"]["sentry.message.parameter.v"]["type"] == "string"
    assert first["body"] == "user ann (7)" and first["level"] == "warn"
    attrs = first["attributes"]
    assert attrs["sentry.message.template"]["value"] == "user {name} ({id})"
    assert attrs["sentry.message.parameter.id"] == {"value": 7, "type": "integer"}
    assert attrs["x"] == {"value": 1.5, "type": "double"}
    assert attrs["sentry.release"]["value"] == "shop@1"
    assert attrs["sentry.severity_number"]["value"] == 13
    assert second["body"] == "{0} positional"  # format failed: the raw template
    assert (
        third["body"] == "no params {here}" and "sentry.message.template" not in third["attributes"]
    )


def test_scope_attributes_innermost_wins_and_the_trace_is_the_errors(transport):
    t = transport(enable_logs=True)
    releasetag.set_attribute("tenant", "acme")
    releasetag.set_attributes({"region": "eu", "drop": 1})
    releasetag.remove_attribute("drop")
    with releasetag.new_scope() as scope:
        scope.set_attribute("tenant", "inner")
        releasetag.logger.info("inside", attributes={"region": "call"})
    releasetag.capture_message("the error")
    (log,) = _logs(t)
    assert log["attributes"]["tenant"]["value"] == "inner"
    assert log["attributes"]["region"]["value"] == "call"
    assert "drop" not in log["attributes"]
    assert log["trace_id"] == t.events[0]["contexts"]["trace"]["trace_id"]


def test_before_send_log_changes_or_drops_and_drops_are_counted(transport):
    def before(log, hint):
        if "secret" in log["body"]:
            return None
        if "raise" in log["body"]:
            raise RuntimeError("a bug in the callback")
        log["attributes"]["seen"] = True
        return log

    t = transport(enable_logs=True, before_send_log=before)
    releasetag.logger.info("kept")
    releasetag.logger.info("secret stuff")
    releasetag.logger.info("raise here")
    (log,) = _logs(t)
    assert log["attributes"]["seen"] == {"value": True, "type": "boolean"}
    lost = dict(t.stats.dropped)
    assert lost[("before_send", "log_item")] == 1 and lost[("before_send", "log_byte")] > 100
    assert lost[("callback_error", "log_item")] == 1


def test_batches_hold_at_most_100_logs(transport):
    t = transport(enable_logs=True)
    for i in range(250):
        releasetag.logger.info("n {i}", i=i)
    releasetag.flush()
    assert [log["body"] for log in t.logs] == [f"n {i}" for i in range(250)]


def test_secrets_are_filtered_in_bodies_and_attributes(transport):
    t = transport(enable_logs=True)
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    releasetag.logger.info(f"charging with {key}", attributes={"password": "hunter2", "k": key})
    (log,) = _logs(t)
    assert key not in str(log)
    assert log["attributes"]["password"]["value"] == "[Filtered]"


def test_logging_levels_are_independent(transport):
    t = transport(
        enable_logs=True,
        default_integrations=False,
        integrations=[
            LoggingIntegration(level=None, event_level=None, sentry_logs_level=logging.WARNING)
        ],
    )
    log = logging.getLogger("shop")
    log.info("below")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("failed %s", "payment")
    (record,) = _logs(t)
    assert record["body"] == "failed payment" and t.events == []
    attrs = record["attributes"]
    assert attrs["exception.type"]["value"] == "ZeroDivisionError"
    assert attrs["logger.name"]["value"] == "shop"
    assert attrs["sentry.message.template"]["value"] == "failed %s"


def test_structlog_key_values_become_typed_attributes(transport):
    t = transport(enable_logs=True)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            SentryLogsProcessor(level=logging.INFO),
            structlog.processors.KeyValueRenderer(),
        ],
        logger_factory=structlog.ReturnLoggerFactory(),
    )
    try:
        logger = structlog.get_logger()
        logger.debug("hidden")
        logger.info("paid", order=42, amount=9.5, ok=True, tags=["a"], cart={"n": 1})
    finally:
        structlog.reset_defaults()
    (log,) = _logs(t)
    attrs = log["attributes"]
    assert log["body"] == "paid" and log["level"] == "info"
    assert attrs["order"] == {"value": 42, "type": "integer"}
    assert attrs["amount"]["type"] == "double" and attrs["ok"]["type"] == "boolean"
    assert attrs["tags"] == {"value": ["a"], "type": "array"}
    assert attrs["cart"] == {"value": "{'n': 1}", "type": "string"}


def test_metrics(transport):
    t = transport(release="shop@1")
    releasetag.metrics.count("orders", 2, attributes={"shop": "eu"})
    releasetag.metrics.distribution("ms", 12, unit="millisecond")
    releasetag.flush()
    count, dist = t.metrics
    assert (count["name"], count["type"], count["value"]) == ("orders", "counter", 2.0)
    assert count["attributes"]["sentry.release"]["value"] == "shop@1"
    assert dist["unit"] == "millisecond" and dist["type"] == "distribution"


_values = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
)
_names = st.text(st.characters(categories=("L",)), min_size=1, max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    template=st.text(max_size=40),
    params=st.dictionaries(_names, _values, max_size=3),
    attributes=st.dictionaries(st.text(max_size=8), _values, max_size=3),
)
def test_any_template_params_and_values_give_a_valid_log(transport, template, params, attributes):
    t = transport(enable_logs=True, scrub_values=False)
    releasetag.logger.info(template, attributes=attributes, **params)
    (log,) = _logs(t)
    try:
        expected = (
            template.format_map(releasetag.logger._KeepMissing(params)) if params else template
        )
    except Exception:
        expected = template
    assert log["body"] == expected
    for value in log["attributes"].values():
        assert value["type"] in ("string", "boolean", "integer", "double", "array")
