"""Ingest against a real ``releasetag serve`` process: sentry-sdk, raw envelopes, bad input."""

from __future__ import annotations

import gzip
import json
import uuid
import zlib

import pytest
import sentry_sdk

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, event_envelope
from tests.support.collector import Collector


def _send(collector, body: bytes, *, key=None, headers=None, path="envelope", query=""):
    dsn = Dsn.parse(collector.dsn)
    hdrs = {"Content-Type": "application/x-sentry-envelope"}
    if key is not False:
        hdrs["X-Sentry-Auth"] = (
            f"Sentry sentry_key={key or dsn.public_key}, sentry_version=7, sentry_client=test/1.0"
        )
    hdrs.update(headers or {})
    return collector.request(
        "POST", f"/api/{dsn.project_id}/{path}/{query}", raw=body, headers=hdrs, token=None
    )


def _envelope(message="hello", **fields) -> bytes:
    event = {
        "event_id": uuid.uuid4().hex,
        "message": message,
        "level": "error",
        "platform": "python",
        **fields,
    }
    return event_envelope(event).serialize()


def test_sentry_sdk_exceptions_and_messages_are_stored_and_read_back(collector):
    sentry_sdk.init(
        dsn=collector.dsn, release="shop@1.2.3", environment="staging", default_integrations=False
    )
    try:
        sentry_sdk.set_tag("customer", "acme")
        try:
            {}["missing"]
        except KeyError:
            exc_id = sentry_sdk.capture_exception()
        msg_id = sentry_sdk.capture_message("payment <b>declined</b>", level="warning")
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)

    events = {e["eventID"]: e for e in collector.events(release="shop@1.2.3")}
    assert set(events) == {exc_id, msg_id}
    exc = collector.event(exc_id)
    assert exc["title"] == "KeyError: 'missing'"
    assert exc["release"] == "shop@1.2.3" and exc["environment"] == "staging"
    assert {"key": "customer", "value": "acme"} in exc["tags"]
    frames = exc["payload"]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == (
        "test_sentry_sdk_exceptions_and_messages_are_stored_and_read_back"
    )
    msg = collector.event(msg_id)
    assert msg["message"] == "payment <b>declined</b>" and msg["level"] == "warning"
    # the release was created from the events, with its count per environment
    release = collector.api("GET", "/organizations/local/releases/shop@1.2.3/")
    assert release["eventCount"] == 2 and release["environments"] == ["staging"]


def test_gzip_deflate_store_endpoint_and_query_key(collector):
    env = _envelope("gzipped", release="r1")
    status, body = _send(collector, gzip.compress(env), headers={"Content-Encoding": "gzip"})
    assert status == 200 and body["id"] == Envelope.parse(env).headers["event_id"]

    env2 = _envelope("deflated", release="r1")
    status, _ = _send(collector, zlib.compress(env2), headers={"Content-Encoding": "deflate"})
    assert status == 200

    key = Dsn.parse(collector.dsn).public_key
    env3 = _envelope("query key", release="r1")
    status, _ = _send(collector, env3, key=False, query=f"?sentry_key={key}")
    assert status == 200

    legacy = {"event_id": uuid.uuid4().hex, "message": "legacy store", "release": "r1"}
    status, body = _send(
        collector,
        json.dumps(legacy).encode(),
        path="store",
        headers={"Content-Type": "application/json"},
    )
    assert status == 200 and body == {"id": legacy["event_id"]}

    assert sorted(e["message"] for e in collector.events(release="r1")) == [
        "deflated",
        "gzipped",
        "legacy store",
        "query key",
    ]


def test_same_event_id_twice_is_stored_once(collector):
    env = _envelope("twice")
    assert _send(collector, env)[0] == 200
    assert _send(collector, env)[0] == 200
    assert [e["message"] for e in collector.events()] == ["twice"]


def test_attachments_and_client_reports_are_kept(collector):
    event_id = uuid.uuid4().hex
    env = Envelope({"event_id": event_id})
    env.add_event({"event_id": event_id, "message": "with attachment"})
    from releasetag.protocol.envelope import Item

    env.add_item(
        Item.from_bytes("attachment", b"log line\n", filename="app.log", content_type="text/plain")
    )
    env.add_item(
        Item.from_json(
            "client_report",
            {
                "timestamp": 1.0,
                "discarded_events": [
                    {"reason": "queue_overflow", "category": "error", "quantity": 3}
                ],
            },
        )
    )
    status, body = _send(collector, env.serialize())
    assert status == 200 and body == {"id": event_id}
    event = collector.event(event_id)
    assert [(a["filename"], a["size"]) for a in event["attachments"]] == [("app.log", 9)]
    reports = collector.api("GET", "/projects/local/local/client-reports/")
    assert reports[0]["discarded_events"][0]["quantity"] == 3


@pytest.mark.parametrize(
    "key, expected",
    [
        ("0" * 32, "invalid sentry_key for project 1"),
        (False, "missing sentry_key (send X-Sentry-Auth or ?sentry_key=)"),
    ],
)
def test_wrong_or_missing_key_is_401(collector, key, expected):
    status, body = _send(collector, _envelope("nope"), key=key)
    assert (status, body) == (401, {"detail": expected})
    assert collector.events() == []


@pytest.mark.parametrize(
    "body, encoding, reason",
    [
        (b"", None, "malformed envelope: envelope is empty or has no header line"),
        (b"{not json\n", None, "malformed envelope: envelope header is not valid JSON"),
        (
            b'{}\n{"type":"event","length":7}\n{"a":\xff}\n',
            None,
            "malformed envelope: event payload is not valid UTF-8",
        ),
        (
            b'{}\n{"type":"event","length":50}\n{}\n',
            None,
            "malformed envelope: item 1 is truncated",
        ),
        (b'{}\n{"type":"event"}\n[1,2]\n', None, "event payload must be a JSON object"),
        (
            b'{}\n{"type":"event"}\n{"event_id":"xyz"}\n',
            None,
            "event_id must be 32 hexadecimal digits",
        ),
        (b"\xff\xfe garbage", None, "malformed envelope: envelope header is not valid UTF-8"),
        (b"not gzip at all", "gzip", "body is not valid gzip"),
        (b"abc", "zstd", "unsupported Content-Encoding 'zstd' (use gzip or deflate)"),
    ],
)
def test_malformed_bodies_get_one_line_reasons_and_store_nothing(collector, body, encoding, reason):
    headers = {"Content-Encoding": encoding} if encoding else {}
    status, answer = _send(collector, body, headers=headers)
    assert status in (400, 415)
    assert answer["detail"].startswith(reason) and "\n" not in answer["detail"]
    assert collector.events() == []
    # and the server keeps serving
    assert _send(collector, _envelope("still here"))[0] == 200


def test_oversized_bodies_are_413(collector):
    big_event = {"event_id": uuid.uuid4().hex, "message": "x" * (1024 * 1024 + 10)}
    status, body = _send(collector, event_envelope(big_event).serialize())
    assert status == 413 and "over the limit" in body["detail"]

    # a small gzip body that inflates past the limit (a compression bomb)
    bomb = gzip.compress(b"{}\n" + b" " * (41 * 1024 * 1024))
    status, body = _send(collector, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413 and "inflates to more than" in body["detail"]

    # a raw body over the envelope limit
    status, body = _send(collector, b"{}\n" + b"0" * (21 * 1024 * 1024))
    assert status == 413
    assert collector.events() == []
    assert _send(collector, _envelope("after the big ones"))[0] == 200


def test_key_and_token_survive_a_restart(tmp_path):
    first = Collector(str(tmp_path / "d"))
    try:
        assert _send(first, _envelope("before restart"))[0] == 200
        info = dict(first.info)
    finally:
        first.stop()
    second = Collector(str(tmp_path / "d"))
    try:
        assert Dsn.parse(second.dsn).public_key == Dsn.parse(info["dsn"]).public_key
        assert second.token == info["token"]
        assert [e["message"] for e in second.events()] == ["before restart"]
    finally:
        second.stop()
    third = Collector(str(tmp_path / "d"), token="my-own-token-0123456789")
    try:
        assert third.token == "my-own-token-0123456789"
        assert third.request("GET", "/api/0/organizations/", token=info["token"])[0] == 401
    finally:
        third.stop()


def test_a_client_report_without_an_event_is_kept(collector):
    from releasetag.protocol.envelope import Item

    env = Envelope({})
    env.add_item(
        Item.from_json(
            "client_report",
            {
                "timestamp": 2.0,
                "discarded_events": [
                    {"reason": "ratelimit_backoff", "category": "error", "quantity": 5}
                ],
            },
        )
    )
    status, body = _send(collector, env.serialize())
    assert (status, body) == (200, {"id": None})
    reports = collector.api("GET", "/projects/local/local/client-reports/")
    assert [r["discarded_events"][0]["reason"] for r in reports] == ["ratelimit_backoff"]
    assert collector.events() == []


def test_browser_preflight_and_cors_headers_on_ingest(collector):
    import urllib.request

    req = urllib.request.Request(
        collector.url + "/api/1/envelope/",
        method="OPTIONS",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "X-Sentry-Auth" in resp.headers["Access-Control-Allow-Headers"]


def test_sentry_sdk_brotli_bodies_are_accepted(collector):
    """sentry-sdk compresses with brotli whenever the brotli module is installed."""
    import brotli
    from sentry_sdk import transport as sdk_transport

    assert sdk_transport.brotli is not None  # so the SDK below really sends br
    env = _envelope("brotli body", release="br@1")
    status, _ = _send(collector, brotli.compress(env), headers={"Content-Encoding": "br"})
    assert status == 200
    sentry_sdk.init(dsn=collector.dsn, release="br@1", default_integrations=False)
    try:
        eid = sentry_sdk.capture_message("sent by sentry-sdk with br")
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
    assert {e["message"] for e in collector.events(release="br@1")} == {
        "brotli body",
        "sent by sentry-sdk with br",
    }
    assert collector.event(eid)["release"] == "br@1"
    bomb = brotli.compress(b"{}\n" + b" " * (41 * 1024 * 1024), quality=1)
    status, body = _send(collector, bomb, headers={"Content-Encoding": "br"})
    assert status == 413 and "inflates to more than" in body["detail"]
    status, body = _send(collector, b"not brotli", headers={"Content-Encoding": "br"})
    assert status == 400 and body["detail"].startswith("body is not valid br")
