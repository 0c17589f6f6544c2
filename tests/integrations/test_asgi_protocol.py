"""The ASGI middleware driven through the ASGI protocol itself (a minimal driver: scope,
receive, send), for what no server sends on purpose: odd scopes, malformed messages, clients
that disconnect mid-body. The app must behave exactly as without the middleware."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import releasetag
from releasetag import scope as scope_mod
from releasetag.integrations.asgi import SCOPE_KEY, ReleasetagAsgiMiddleware, request_data
from releasetag.testing import CapturingTransport


@pytest.fixture
def captured():
    transport = CapturingTransport()
    releasetag.init(
        "http://k@127.0.0.1:9/1",
        release="shop@1",
        transport=transport,
        failed_request_status_codes=[range(500, 600)],
        send_default_pii=True,
    )
    try:
        yield transport
    finally:
        releasetag.close(1)
        scope_mod.reset_all_scopes()


def _drive(app, scope, incoming):
    """Run ``app`` for one scope; return (messages sent, exception raised or None)."""
    sent = []
    queue = list(incoming)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def main():
        try:
            await app(scope, receive, send)
        except Exception as exc:
            return exc
        return None

    return sent, asyncio.run(main())


def _http_scope(**extra):
    return {
        "type": "http",
        "method": "POST",
        "path": "/orders",
        "query_string": b"a=1",
        "headers": [(b"host", b"shop.test"), (b"content-type", b"application/json")],
        "client": ("10.0.0.5", 5000),
        **extra,
    }


def test_lifespan_and_unknown_scopes_reach_the_app_untouched(captured):
    seen = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    wrapped = ReleasetagAsgiMiddleware(app)
    for scope in ({"type": "lifespan"}, {"type": "webtransport"}, {"no": "type"}):
        before = dict(scope)
        _drive(wrapped, scope, [])
        assert seen[-1][0] is scope and scope == before  # no key added, nothing changed
    assert captured.events == []


def test_malformed_messages_go_to_the_server_unchanged(captured):
    junk = [
        {"type": "http.response.start", "status": "five hundred"},
        {"type": "http.response.start"},
        "not a dict",
        {"type": "http.response.body", "body": 12},
    ]

    async def app(scope, receive, send):
        for message in junk:
            await send(message)

    sent, error = _drive(ReleasetagAsgiMiddleware(app), _http_scope(), [])
    assert error is None and sent == junk
    assert captured.events == []


def test_client_disconnecting_mid_body_changes_nothing(captured):
    incoming = [
        {"type": "http.request", "body": b'{"sku": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def app(scope, receive, send):
        parts = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            parts.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"".join(parts)})

    bare = _drive(app, _http_scope(), list(incoming))
    wrapped = _drive(ReleasetagAsgiMiddleware(app), _http_scope(), list(incoming))
    assert wrapped == bare
    assert captured.events == []


def test_a_failed_status_is_reported_with_the_request(captured):
    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"bad gateway"})

    incoming = [{"type": "http.request", "body": b'{"sku": "A1"}'}]
    scope = _http_scope()
    _, error = _drive(ReleasetagAsgiMiddleware(app), scope, incoming)
    assert error is None
    (event,) = captured.events
    assert event["logentry"]["formatted"] == "POST /orders answered 502"
    assert "data" not in event["request"]  # bodies only through Starlette and FastAPI
    assert event["request"]["env"] == {"REMOTE_ADDR": "10.0.0.5"}
    assert event["transaction"] == "/orders"
    assert SCOPE_KEY in scope


def test_cancelled_request_is_not_an_error(captured):
    async def app(scope, receive, send):
        raise asyncio.CancelledError()

    async def main():
        try:
            await ReleasetagAsgiMiddleware(app)(_http_scope(), None, None)
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"
    assert captured.events == []


_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.binary(max_size=8), max_size=3),
    st.tuples(st.text(max_size=5), st.integers()),
)
_scopes = st.fixed_dictionaries(
    {"type": st.sampled_from(["http", "websocket"])},
    optional={
        "method": _values,
        "path": _values,
        "root_path": _values,
        "scheme": _values,
        "query_string": _values,
        "server": _values,
        "client": _values,
        "headers": st.one_of(
            _values, st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=12)))
        ),
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scope=_scopes, pii=st.booleans())
def test_any_scope_gives_request_data_or_a_plain_error_never_a_crash(captured, scope, pii):
    data = request_data(scope, pii)  # must not raise, whatever the server put in the scope
    assert isinstance(data["url"], str) and isinstance(data["headers"], dict)

    async def app(scope, receive, send):
        raise ValueError("app failed")

    _, error = _drive(ReleasetagAsgiMiddleware(app), scope, [])
    assert isinstance(error, ValueError)  # the app's own error, re-raised as it was


def _cyclic_garbage(app) -> int:
    """Objects the cycle collector finds after 200 requests through ``app``."""
    import gc

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        return None

    async def many():
        for _ in range(200):
            await app(_http_scope(), receive, send)

    gc.collect()
    gc.disable()
    try:
        asyncio.run(many())
        return gc.collect()
    finally:
        gc.enable()


def test_requests_leave_no_reference_cycles(captured):
    # a cycle per request makes the collector run (and scan the app's heap) far more often
    async def app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = ReleasetagAsgiMiddleware(app)
    _cyclic_garbage(wrapped)  # first use: lazy imports, the session flusher's start
    assert _cyclic_garbage(wrapped) == _cyclic_garbage(app)
