"""Exception events: chains, groups, frames, locals, scrubbing, size cap, Relay validity."""

from __future__ import annotations

import sys

import pytest
from sentry_relay import StoreNormalizer

from releasetag.client import Client
from releasetag.event import FrameBuilder, exception_values
from releasetag.serialize import serialize
from releasetag.testing import CapturingTransport, capture_events
from releasetag.trim import encode_event


def make_client(**kw):
    transport = CapturingTransport()
    client = Client(transport=transport, release="app@1", environment="test", **kw)
    return client, transport.events


def normalized_errors(event):
    return StoreNormalizer().normalize_event(event).get("errors")


def raise_chain():
    def inner(password="hunter2"):
        raise KeyError("inner")

    def outer():
        try:
            inner()
        except KeyError as exc:
            raise ValueError("outer") from exc

    outer()


def test_chain_oldest_first_with_ids_and_relay_accepts():
    client, events = make_client()
    try:
        raise_chain()
    except ValueError:
        client.capture_exception()
    event = events[0]
    values = event["exception"]["values"]
    assert [v["type"] for v in values] == ["KeyError", "ValueError"]
    assert values[1]["mechanism"]["exception_id"] == 0
    assert values[0]["mechanism"] == {
        "type": "chained",
        "handled": True,
        "exception_id": 1,
        "parent_id": 0,
        "source": "__cause__",
    }
    frames = values[0]["stacktrace"]["frames"]
    assert frames[-1]["function"].endswith("inner")
    assert frames[-1]["context_line"].strip() == 'raise KeyError("inner")'
    assert len(frames[-1]["pre_context"]) == 5
    assert frames[-1]["vars"]["password"] == "[Filtered]"
    assert frames[-1]["in_app"] is True
    assert event["release"] == "app@1" and event["environment"] == "test"
    assert event["server_name"] and event["platform"] == "python"
    assert event["contexts"]["runtime"]["name"] and event["contexts"]["os"]["name"]
    assert event["sdk"]["name"] == "releasetag.python"
    assert normalized_errors(event) is None


def test_implicit_context_and_suppressed_context():
    client, events = make_client()
    try:
        try:
            raise OSError("first")
        except OSError:
            raise RuntimeError("during handling")
    except RuntimeError:
        client.capture_exception()
    values = events[0]["exception"]["values"]
    assert values[0]["mechanism"]["source"] == "__context__"
    try:
        try:
            raise OSError("hidden")
        except OSError:
            raise RuntimeError("alone") from None
    except RuntimeError:
        client.capture_exception()
    assert [v["type"] for v in events[1]["exception"]["values"]] == ["RuntimeError"]


def test_cyclic_chain_terminates():
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a
    values = exception_values(a, FrameBuilder())
    assert len(values) == 2


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is 3.11+")
def test_exception_group_children_linked():
    client, events = make_client()
    import builtins

    group_type = builtins.ExceptionGroup
    try:
        raise group_type("many", [ValueError("v"), TypeError("t")])
    except Exception:
        client.capture_exception()
    values = events[0]["exception"]["values"]
    by_type = {v["type"]: v["mechanism"] for v in values}
    assert by_type["ExceptionGroup"]["is_exception_group"] is True
    assert by_type["ValueError"]["source"] == "exceptions[0]"
    assert by_type["TypeError"]["source"] == "exceptions[1]"
    assert by_type["TypeError"]["parent_id"] == by_type["ExceptionGroup"]["exception_id"]
    assert normalized_errors(events[0]) is None


class Hostile:
    def __repr__(self):
        raise RuntimeError("no repr for you")


def test_hostile_locals_and_extra_still_make_a_valid_event():
    client, events = make_client()
    cyclic = {"self": None}
    cyclic["self"] = cyclic
    huge = list(range(100_000))
    weird = {(1, 2): "tuple key", 3: "int key", None: Hostile()}
    from releasetag.scope import Scope

    scope = Scope()
    scope.set_extra("hostile", Hostile())
    scope.set_extra("weird", weird)
    scope.set_extra("nan", float("nan"))

    def fail(h=Hostile(), c=cyclic, big=huge, w=weird, b=b"\xff" * 10, n=2**80):
        raise ValueError(Hostile())

    try:
        fail()
    except ValueError:
        client.capture_exception(scope=scope)
    event = events[0]
    frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert "repr failed" in frame_vars["h"]
    assert "<cycle>" in str(frame_vars["c"])
    assert len(frame_vars["big"]) <= 21
    assert event["extra"]["weird"]["(1, 2)"] == "tuple key"
    assert normalized_errors(event) is None
    encode_event(event)  # valid JSON


def test_send_default_pii_keeps_values():
    client, events = make_client(send_default_pii=True)
    try:
        raise_chain()
    except ValueError:
        client.capture_exception()
    frame = events[0]["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert frame["vars"]["password"] == "'hunter2'"


def test_in_app_rules():
    fb = FrameBuilder(in_app_include=("requests",), in_app_exclude=("myapp.vendor",))
    assert fb.is_in_app("requests.api", "/x/site-packages/requests/api.py") is True
    assert fb.is_in_app("myapp.vendor.x", "/src/myapp/vendor/x.py") is False
    assert fb.is_in_app("urllib3.pool", "/x/site-packages/urllib3/pool.py") is False
    assert fb.is_in_app("myapp.views", "/src/myapp/views.py") is True


def test_serialize_caps_depth_breadth_and_strings():
    nested = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert isinstance(serialize(nested, max_depth=3)["a"]["b"]["c"], str)
    assert serialize(["x" * 5000])[0].endswith("...")
    assert serialize(set(range(200)))[-1] == "<150 more>"


def test_oversized_event_trimmed_breadcrumbs_first_then_vars():
    client, events = make_client(max_breadcrumbs=500)
    from releasetag.scope import Scope

    scope = Scope(max_breadcrumbs=500)
    for i in range(500):
        scope.add_breadcrumb({"message": "m" * 2000, "timestamp": i})
    big_local = ["y" * 250] * 20  # noqa: F841 - captured as a local variable

    def deep(n):
        local = "z" * 250  # noqa: F841
        if n == 0:
            raise ValueError("deep")
        deep(n - 1)

    try:
        deep(200)
    except ValueError:
        client.capture_exception(scope=scope)
    event = events[0]
    data = encode_event(event, 1_000_000)
    assert len(data) <= 1_000_000
    assert len(event["breadcrumbs"]["values"]) < 500
    assert event["breadcrumbs"]["values"][-1]["timestamp"] == 499  # newest kept
    assert normalized_errors(event) is None


def test_message_event_with_params_and_level():
    client, events = make_client()
    client.capture_message("user %s failed %d times", "warning", params=("bob", 3))
    event = events[0]
    assert event["logentry"]["formatted"] == "user bob failed 3 times"
    assert event["level"] == "warning"
    assert normalized_errors(event) is None


def test_testing_helper_captures_through_the_public_api():
    import releasetag

    with capture_events(release="app@7", environment="unit") as events:
        releasetag.set_tag("t", "1")
        releasetag.capture_message("hello")
    assert [(e["release"], e["environment"], e["tags"]) for e in events] == [
        ("app@7", "unit", {"t": "1"})
    ]
    assert releasetag.get_client() is None
