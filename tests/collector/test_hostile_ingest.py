"""Odd but well-formed input never makes the collector answer 500, and an event it accepted
never breaks its page or its API record: every answer is strict JSON."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.protocol.dsn import Dsn
from tests.support.collector import Collector  # its request() parses answers strictly


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    c = Collector(str(tmp_path_factory.mktemp("hostile") / "data"))
    try:
        yield c
    finally:
        c.stop()


def post_envelope(collector, event_json: bytes, headers: bytes = None):
    dsn = Dsn.parse(collector.dsn)
    head = headers if headers is not None else b'{"event_id":"%s"}' % uuid.uuid4().hex.encode()
    body = head + b"\n" + b'{"type":"event","length":%d}\n' % len(event_json) + event_json + b"\n"
    return collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=body,
        headers={"X-Sentry-Auth": dsn.auth_header()},
        token=None,
    )


def check_event_views(collector, event_id: str):
    status, body = collector.request(
        "GET", f"/api/0/projects/local/local/events/{event_id}/", token=collector.token
    )
    assert status == 200, body
    assert isinstance(body, dict)
    status, page = collector.request("GET", f"/events/{event_id}/", token=None)
    assert status == 200, page
    for path in ("/", "/api/0/projects/local/local/issues/"):
        status, body = collector.request("GET", path, token=collector.token)
        assert status == 200, (path, body[:300])


def test_lone_surrogate_escapes_are_stored_as_replacement_characters(served):
    event_id = uuid.uuid4().hex
    event = (
        '{"event_id":"%s","message":"bad \\udcff name","tags":{"k\\ud800":"v\\udfff"},'
        '"release":"r\\udcff@1","extra":{"ok":"\\ud83d\\ude00"}}' % event_id
    )
    status, body = post_envelope(served, event.encode())
    assert status == 200, body
    check_event_views(served, event_id)
    status, body = served.request(
        "GET", f"/api/0/projects/local/local/events/{event_id}/", token=served.token
    )
    text = json.dumps(body, ensure_ascii=False)
    assert "bad \ufffd name" in text and "\U0001f600" in text


def test_nan_and_infinity_are_stored_as_strings(served):
    event_id = uuid.uuid4().hex
    event = '{"event_id":"%s","message":"m","extra":{"a":NaN,"b":-Infinity}}' % event_id
    status, body = post_envelope(served, event.encode())
    assert status == 200, body
    check_event_views(served, event_id)
    status, body = served.request(
        "GET", f"/api/0/projects/local/local/events/{event_id}/", token=served.token
    )
    assert body["payload"]["extra"] == {"a": "NaN", "b": "-Infinity"}


@pytest.mark.parametrize("depth", [5000, 200000])
def test_json_nested_thousands_deep_is_a_400(served, depth):
    event = b'{"message":' + b"[" * depth + b"]" * depth + b"}"
    status, body = post_envelope(served, event)
    assert status == 400, body
    assert "nested too deep" in body["detail"]


def test_a_web_api_name_with_a_lone_surrogate_is_not_a_500(served):
    status, body = served.request(
        "POST",
        "/api/0/organizations/local/releases/",
        raw=b'{"version":"v\\udcff1","projects":["local"]}',
        headers={"Content-Type": "application/json"},
        token=served.token,
    )
    assert status in (201, 208, 400), body


def test_frames_of_the_wrong_shape_are_stored_and_shown(served):
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "exception": {
            "values": [
                {"type": "E", "value": 3, "stacktrace": {"frames": [
                    {"filename": 5, "function": None, "lineno": "x", "pre_context": 7,
                     "post_context": "text", "context_line": ["a"], "in_app": "yes"},
                    "not a frame",
                    {"vars": {"a": [1, {"b": None}]}},
                ]}},
                "not an exception",
            ]
        },
        "tags": [["a", 1], "b", ["c"]],
        "user": "someone",
        "breadcrumbs": {"values": "x"},
        "level": ["error"],
        "timestamp": "yesterday",
    }  # fmt: skip
    status, body = post_envelope(served, json.dumps(event).encode())
    assert status == 200, body
    check_event_views(served, event_id)


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=15,
)
FIELDS = [
    "message", "logentry", "level", "logger", "release", "environment", "dist", "tags", "extra",
    "user", "contexts", "breadcrumbs", "request", "exception", "fingerprint", "timestamp",
    "transaction", "platform", "server_name", "modules", "sdk",
]  # fmt: skip


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fields=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUE, max_size=8))
def test_any_event_shape_is_a_4xx_or_stored_and_shown(served, fields):
    event_id = uuid.uuid4().hex
    event = dict(fields, event_id=event_id)
    status, body = post_envelope(served, json.dumps(event).encode())
    assert status < 500, body
    if status == 200:
        check_event_views(served, event_id)


ENVELOPE = (
    b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-01-01T00:00:00Z"}\n'
    b'{"type":"event","length":41}\n{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
    b'{"type":"attachment","length":3,"filename":"a.txt"}\nabc\n'
    b'{"type":"client_report"}\n{"discarded_events":[{"reason":"x","category":"error","quantity":1}]}\n'
)


@st.composite
def mutated_envelope(draw):
    data = bytearray(ENVELOPE)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=st.one_of(mutated_envelope(), st.binary(max_size=300)))
def test_any_envelope_or_store_body_is_never_a_5xx(served, body):
    dsn = Dsn.parse(served.dsn)
    for endpoint in ("envelope", "store"):
        status, answer = served.request(
            "POST",
            f"/api/{dsn.project_id}/{endpoint}/",
            raw=body,
            headers={"X-Sentry-Auth": dsn.auth_header()},
            token=None,
        )
        assert status < 500, (endpoint, answer)
