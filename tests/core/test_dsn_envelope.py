"""DSN parsing and envelope round trips (the same code the transport and collector use)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.protocol.dsn import Dsn, parse_auth_header
from releasetag.protocol.envelope import Envelope, EnvelopeError, Item, event_envelope
from releasetag.protocol.errors import ConfigurationError


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


@pytest.mark.parametrize(
    "value,reason",
    [
        ("http://k@h:0/1", "port must be between 1 and 65535"),
        ("http://k@h/\u0661\u0662", "digits 0-9"),  # Arabic-Indic digits: isdigit() says yes
        ("http://k@h/\u00b2", "digits 0-9"),  # superscript two
        ("http://k@h\u00a0x/1", "host contains a space"),
    ],
)
def test_dsns_that_lead_nowhere_are_refused_at_init(value, reason):
    import releasetag

    with pytest.raises(releasetag.ConfigurationError, match=reason):
        releasetag.init(value, release="a@1")
    assert releasetag.get_client() is None or not releasetag.get_client().active


_DIGITS = "0123456789\u0661\u0662\u00b2\u0966\uff11"  # ASCII, Arabic-Indic, superscript, ...
_DSN_CHARS = st.sampled_from(list("0123456789:/@.[]ab%\\ \u00a0\u0661\u00b2") + ["k", "h"])
_PORTS = st.one_of(
    st.just(""),
    st.integers(min_value=0, max_value=70000).map(lambda p: f":{p}"),
    st.text(alphabet=_DIGITS + " +-", max_size=6).map(lambda p: ":" + p),
)
_STRUCTURED = st.builds(
    "{}://{}@{}{}/{}{}".format,
    st.sampled_from(["http", "https", "ftp", ""]),
    st.one_of(st.just("key"), st.text(max_size=6)),
    st.one_of(st.sampled_from(["h", "127.0.0.1", "[::1]", "o1.example.com"]), st.text(max_size=8)),
    _PORTS,
    st.sampled_from(["", "prefix/", "a/b/"]),
    st.text(alphabet=_DIGITS + "a/", max_size=6),
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        _STRUCTURED,
        st.text(alphabet=_DSN_CHARS, max_size=30).map(lambda rest: "http://" + rest),
        st.text(max_size=40),
    )
)
def test_any_string_is_a_dsn_that_leads_somewhere_or_a_clear_error(value):
    """Either a ConfigurationError (a ValueError) naming the problem, or a DSN whose parts
    make a reachable URL: port 1-65535, an ASCII project number, a host without spaces, and
    the same DSN when written out and read back."""
    try:
        dsn = Dsn.parse(value)
    except ConfigurationError as exc:
        assert str(exc).startswith("invalid DSN: ")
        return
    assert dsn.port is None or 1 <= dsn.port <= 65535
    assert dsn.project_id.isascii() and dsn.project_id.isdigit()
    assert dsn.host and not any(c.isspace() or not c.isprintable() for c in dsn.host)
    assert dsn.scheme in ("http", "https")
    assert Dsn.parse(str(dsn)) == dsn
    assert dsn.envelope_url.endswith(f"/api/{dsn.project_id}/envelope/")
