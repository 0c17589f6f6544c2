"""Every capture is delivered or counted, whatever the app puts into it: lone surrogates
(what os.listdir, sys.argv and os.environ give for names that are not UTF-8), NaN, cycles,
deep nesting, objects whose __repr__ or __str__ raise."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import releasetag
from releasetag import trim
from releasetag.protocol import jsonfmt
from releasetag.protocol.envelope import Envelope, Item
from releasetag.testing import CapturingTransport

NOT_UTF8 = b"caf\xe9-\xff.txt".decode("utf-8", "surrogateescape")


class Broken:
    def __repr__(self):
        raise RuntimeError("repr")

    def __str__(self):
        raise RuntimeError("str")


def _capture_everything(value):
    releasetag.set_tag("name", value)
    releasetag.set_extra("value", value)
    releasetag.set_context("ctx", {"value": value})
    releasetag.set_user({"id": "u1", "username": value})
    releasetag.add_breadcrumb(message=value, data={"v": value})
    ids = [releasetag.capture_message(value)]
    try:
        raise ValueError(value)
    except ValueError:
        ids.append(releasetag.capture_exception())
    return ids


def test_lone_surrogates_are_delivered_to_a_real_server(recorder):
    releasetag.init(recorder.dsn(), release="r@1", default_integrations=False)
    ids = _capture_everything(NOT_UTF8)
    assert all(ids) and releasetag.flush(10)
    events = recorder.events()
    assert sorted(e["event_id"] for e in events) == sorted(ids)
    message = next(e for e in events if "logentry" in e)
    assert message["logentry"]["formatted"] == "caf\ufffd-\ufffd.txt"
    assert message["tags"]["name"] == "caf\ufffd-\ufffd.txt"
    error = next(e for e in events if "exception" in e)
    assert error["exception"]["values"][-1]["value"] == "caf\ufffd-\ufffd.txt"
    stats = releasetag.delivery_stats()
    assert stats["sent"] == 2 and stats["dropped_total"] == 0


def test_lone_surrogates_are_stored_by_the_collector(tmp_path):
    from tests.support.collector import Collector

    collector = Collector(str(tmp_path / "data"))
    try:
        releasetag.init(collector.dsn, release="r@1", default_integrations=False)
        ids = _capture_everything(NOT_UTF8)
        assert releasetag.flush(10)
        for event_id in ids:
            stored = collector.event(event_id)
            assert "caf\ufffd-\ufffd.txt" in json.dumps(stored, ensure_ascii=False)
    finally:
        releasetag.close(0)
        collector.stop()


def test_nan_cycles_and_broken_objects_in_a_ready_event_are_delivered(recorder):
    releasetag.init(recorder.dsn(), release="r@1", default_integrations=False)
    cyclic = {"name": "loop"}
    cyclic["self"] = cyclic
    event = {
        "message": "ready",
        "extra": {"nan": float("nan"), "inf": float("inf"), "cycle": cyclic, "obj": Broken()},
        "contexts": {"deep": {"a": {"b": {"c": {"d": {"e": {"f": [[[[["x"]]]]]}}}}}}},
    }
    assert releasetag.capture_event(event) and releasetag.flush(10)
    (got,) = recorder.events()
    assert got["message"] == "ready"
    assert releasetag.delivery_stats()["dropped_total"] == 0


# -- properties ---------------------------------------------------------------------------------
def _no_constant(name):
    raise AssertionError(f"{name} is not JSON")


def strict_json(data: bytes):
    """Parse as a strict server would: UTF-8 only, no NaN or Infinity."""
    return json.loads(data.decode("utf-8"), parse_constant=_no_constant)


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
LEAVES = st.one_of(
    ANY_TEXT,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.binary(max_size=20),
    st.builds(Broken),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(ANY_TEXT, st.integers()), inner, max_size=4),
        st.tuples(inner, inner),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, value=VALUES)
def test_any_value_anywhere_gives_a_valid_envelope(text, value):
    transport = CapturingTransport()
    releasetag.init(transport=transport, release="r@1", default_integrations=False)
    try:
        releasetag.set_tag(text or "t", text)
        releasetag.set_extra("v", value)
        releasetag.set_context("c", {"v": value, "t": text})
        releasetag.set_user({"id": text, "data": value})
        releasetag.add_breadcrumb(message=text, data={"v": value})
        ids = [releasetag.capture_message(text)]
        try:
            raise RuntimeError(text)
        except RuntimeError:
            ids.append(releasetag.capture_exception())
        ids.append(releasetag.capture_event({"message": text, "extra": {"v": value}}))
        assert all(ids), ids
        assert len(transport.events) == 3
        assert releasetag.delivery_stats()["dropped_total"] == 0
        for event in transport.events:
            data = trim.encode_event(event)
            parsed = strict_json(data)
            assert parsed["event_id"] == event["event_id"]
            envelope = Envelope.parse(
                Envelope(
                    {"event_id": event["event_id"]}, [Item({"type": "event"}, data)]
                ).serialize()
            )
            assert envelope.event["event_id"] == event["event_id"]
    finally:
        releasetag.close(0)


@settings(max_examples=200, deadline=None)
@given(value=VALUES)
def test_dumps_takes_anything(value):
    data = jsonfmt.dumps({"v": value})
    parsed = strict_json(data)
    for leaf in _leaves(parsed):
        assert not (isinstance(leaf, float) and not math.isfinite(leaf))


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj


@pytest.mark.parametrize("depth, kept", [(200, 201), (5000, jsonfmt.MAX_NESTING)])
def test_deep_nesting_is_kept_when_json_takes_it_and_cut_when_not(depth, kept):
    deep = root = []
    for _ in range(depth):
        child = []
        deep.append(child)
        deep = child
    parsed = json.loads(jsonfmt.dumps({"deep": root}))
    assert json.dumps(parsed).count("[") == kept
