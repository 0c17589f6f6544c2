"""DSN parsing and envelope round trips (the same code the transport and collector use)."""

from __future__ import annotations

import pytest

from releasetag.protocol.dsn import Dsn, parse_auth_header
from releasetag.protocol.envelope import Envelope, EnvelopeError, Item, event_envelope


def test_dsn_parts_and_urls():
    dsn = Dsn.parse("https://pub:sec@o1.example.com:8443/prefix/path/42")
    assert (dsn.public_key, dsn.secret_key, dsn.host, dsn.port, dsn.project_id) == (
        "pub",
        "sec",
        "o1.example.com",
        8443,
        "42",
    )
    assert dsn.envelope_url == "https://o1.example.com:8443/prefix/path/api/42/envelope/"
    assert dsn.store_url.endswith("/prefix/path/api/42/store/")
    auth = parse_auth_header(dsn.auth_header())
    assert auth["sentry_key"] == "pub" and auth["sentry_version"] == "7"
    assert auth["sentry_secret"] == "sec"
    assert auth["sentry_client"].startswith("releasetag.python/")
    assert "sec" not in repr(dsn)


@pytest.mark.parametrize(
    "value,reason",
    [
        ("", "empty"),
        ("ftp://k@h/1", "scheme"),
        ("https://h/1", "public key"),
        ("https://k@h/", "project id"),
        ("https://k@h/abc", "must be a number"),
        ("https://k@/1", "host"),
        ("https://k@h:99999/1", "invalid DSN"),
    ],
)
def test_malformed_dsn_says_what_is_wrong(value, reason):
    with pytest.raises(ValueError, match=reason):
        Dsn.parse(value)


def test_malformed_dsn_error_does_not_echo_secret():
    with pytest.raises(ValueError) as info:
        Dsn.parse("https://pub:topsecret@host/notanumber")
    assert "topsecret" not in str(info.value)


def test_envelope_round_trip_with_binary_attachment():
    env = event_envelope({"event_id": "a" * 32, "message": "hé"}, sent_at="2026-01-01T00:00:00Z")
    env.add_item(Item.from_bytes("attachment", b"\x00\n\xffbin\n", filename="a.bin"))
    data = env.serialize()
    back = Envelope.parse(data)
    assert back.headers["event_id"] == "a" * 32
    assert back.event == {"event_id": "a" * 32, "message": "hé"}
    assert back.items[1].payload == b"\x00\n\xffbin\n"
    assert back.items[1].headers["length"] == 7
    assert back.serialize() == data


def test_envelope_items_without_length_end_at_newline():
    data = b'{"event_id":"b"}\n{"type":"event"}\n{"x":1}\n{"type":"session"}\n{"s":2}'
    env = Envelope.parse(data)
    assert [i.json() for i in env.items] == [{"x": 1}, {"s": 2}]


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "no header"),
        (b"not json\n", "not valid"),
        (b"[1]\n", "JSON object"),
        (b'{}\n{"type":"event","length":50}\n{}', "truncated"),
        (b'{}\n{"type":"event","length":-1}\n', "invalid length"),
        (b"{}\n\xff\xfe\n", "UTF-8"),
    ],
)
def test_malformed_envelopes_give_one_line_reason(data, reason):
    with pytest.raises(EnvelopeError, match=reason) as info:
        Envelope.parse(data)
    assert "\n" not in str(info.value)


def test_sentry_sdk_envelopes_parse():
    """Envelopes written by the real sentry-sdk parse with our reader."""
    from sentry_sdk.envelope import Envelope as SdkEnvelope

    sdk_env = SdkEnvelope(headers={"event_id": "c" * 32})
    sdk_env.add_event({"event_id": "c" * 32, "message": "m"})
    sdk_env.add_item(__import__("sentry_sdk").envelope.Item(payload=b"abc\ndef", type="attachment"))
    import io

    buf = io.BytesIO()
    sdk_env.serialize_into(buf)
    env = Envelope.parse(buf.getvalue())
    assert env.event["message"] == "m"
    assert env.items[1].payload == b"abc\ndef"
