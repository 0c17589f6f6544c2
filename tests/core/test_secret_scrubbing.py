"""Secrets found by their value, before the event leaves the process: on a corpus of secrets
planted in every field a user sets, releasetag removes everything Sentry's server-side default
scrubbing (Relay's pii_strip_event with the default data-scrubbing config) removes, and more."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import releasetag
from releasetag.testing import CapturingTransport

# kind -> (planted text, the part that must not leave)
SECRETS: Dict[str, Tuple[str, str]] = {
    "card_spaces": ("4111 1111 1111 1111", "4111 1111 1111 1111"),
    "card_dashes": ("5500-0000-0000-0004", "5500-0000-0000-0004"),
    "card_amex": ("378282246310005", "378282246310005"),
    "aws_key_id": ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "stripe_live": ("sk_live_51HxYzABCDEFGHIJKLMNOP", "sk_live_51HxYzABCDEFGHIJKLMNOP"),
    "stripe_test": ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    "github": ("ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"),
    "slack": ("xoxb-123456789012-abcdefABCDEF", "123456789012-abcdefABCDEF"),
    "bearer": ("Bearer 8f2c1d9e7a6b5c4d3e2f1a0b", "8f2c1d9e7a6b5c4d3e2f1a0b"),
    "basic": ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    "jwt": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "pem": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAzq9Secret\n-----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEAzq9Secret",
    ),
    "url_password": ("postgres://app:Hunter2Secret@db.internal/shop", "Hunter2Secret"),
    "query_token": ("https://api.example/cb?token=QrStUvWxYz123&page=1", "QrStUvWxYz123"),
    "libpq": ("host=db.internal user=app password=Pq7LibSecret dbname=shop", "Pq7LibSecret"),
    "libpq_quoted": ("host=db password='Qu0ted Secret' port=5432", "Qu0ted Secret"),
    "url_password_slash": ("mysql://app:Sl/ash9Secret@db.internal:3306/shop", "Sl/ash9Secret"),
    "url_password_at": ("redis://:At@Sign7Secret@cache.internal/0", "At@Sign7Secret"),
    "slack_webhook": ("https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/SlackHookSecret0123456789",
                      "T0AAAAAAA/B0BBBBBBB/SlackHookSecret0123456789"),
    "aws_secret": ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
}  # fmt: skip
NOT_SECRETS = [
    "order 1234567890123",
    "2026-12-01T10:00:00Z",
    "3.14159265358979",
    "hello world",
    "http://host:8080/users/bob@example.com",
    "passwords are case sensitive",
]


def _plant(transport: Any, **options: Any) -> Dict[str, Any]:
    """One exception event with every secret in every field a user sets; the event as the
    transport receives it (after the whole pipeline)."""
    releasetag.init(transport=transport, release="r@1", default_integrations=False, **options)
    try:
        for kind in SECRETS:
            releasetag.set_extra(f"x_{kind}", SECRETS[kind][0])  # keys that say nothing
            releasetag.set_tag(f"t_{kind}", SECRETS[kind][0])
        releasetag.set_context("ctx", {f"c_{k}": t for k, (t, _) in SECRETS.items()})
        releasetag.set_extra("plain", NOT_SECRETS)
        releasetag.add_breadcrumb(
            message=" ".join(t for t, _ in SECRETS.values()),
            data={f"d_{k}": t for k, (t, _) in SECRETS.items()},
        )

        def handler(values):
            local_copy = dict(values)  # noqa: F841 - a frame variable with the secrets
            raise ValueError("failed with " + " | ".join(values.values()))

        try:
            handler({k: t for k, (t, _) in SECRETS.items()})
        except ValueError:
            releasetag.capture_exception(
                event={"request": {"url": SECRETS["query_token"][0], "query_string":
                                   "token=QrStUvWxYz123&page=1", "method": "GET",
                                   "env": {"QUERY_STRING": "token=QrStUvWxYz123"}}}
            )  # fmt: skip
        (event,) = transport.events
        return json.loads(json.dumps(event, default=str))
    finally:
        releasetag.close(0)


SOURCE = ("context_line", "pre_context", "post_context", "_meta")  # code, not data


def _paths(obj: Any, path: str = "") -> Iterator[Tuple[str, str]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in SOURCE:
                yield from _paths(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, f"{path}[{i}]")
    elif isinstance(obj, str):
        yield path, obj


def leaks(event: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(kind, path) of every planted secret still in ``event``."""
    return [
        (kind, path)
        for path, text in _paths(event)
        for kind, (_, secret) in SECRETS.items()
        if secret in text
    ]


@pytest.fixture(scope="module")
def raw_event():
    return _plant(CapturingTransport(), send_default_pii=True, scrub_values=False)


def relay_stripped(event: Dict[str, Any]) -> Dict[str, Any]:
    import sentry_relay

    config = sentry_relay.convert_datascrubbing_config(
        {"scrubData": True, "scrubDefaults": True, "scrubIpAddresses": True,
         "sensitiveFields": [], "excludeFields": []}
    )  # fmt: skip
    normalized = sentry_relay.StoreNormalizer().normalize_event(event)
    return sentry_relay.pii_strip_event(config, normalized)


def test_the_corpus_is_planted_everywhere(raw_event):
    where = {path.split("[")[0].split(".")[1] for _kind, path in leaks(raw_event)}
    assert {"extra", "tags", "contexts", "breadcrumbs", "exception", "request"} <= where
    assert {kind for kind, _ in leaks(raw_event)} == set(SECRETS)


def test_releasetag_removes_all_relay_removes_and_more_before_sending(raw_event):
    relay_leaks = set(leaks(relay_stripped(raw_event)))
    relay_removed = set(leaks(raw_event)) - relay_leaks
    assert relay_removed, "Relay's defaults should remove some of the corpus"
    sent = _plant(CapturingTransport())  # default options: the event as the pipeline sends it
    ours = set(leaks(sent))
    assert not (ours & relay_removed), sorted(ours & relay_removed)
    assert ours == set(), sorted(ours)  # and every other planted secret too
    assert len(relay_leaks) > 0  # what we remove beyond Relay's defaults
    # what is not a secret stays
    assert sent["extra"]["plain"] == NOT_SECRETS
    from sentry_relay import StoreNormalizer

    assert StoreNormalizer().normalize_event(sent).get("errors") is None


def test_the_bytes_that_reach_a_server_hold_no_planted_secret(recorder):
    releasetag.init(recorder.dsn(), release="r@1", default_integrations=False)
    releasetag.set_extra("cc", SECRETS["card_spaces"][0])
    releasetag.set_tag("aws", SECRETS["aws_key_id"][0])
    releasetag.set_context("db", {"url": SECRETS["url_password"][0]})
    try:
        raise RuntimeError(f"charge failed for {SECRETS['card_dashes'][0]}")
    except RuntimeError:
        releasetag.capture_exception()
    assert releasetag.flush(10)
    body = recorder.requests("/envelope/")[0].body
    for _kind, (_, secret) in SECRETS.items():
        assert secret.encode() not in body
    event = recorder.events()[0]
    assert event["extra"]["cc"] == "[Filtered]"
    assert event["contexts"]["db"]["url"] == "postgres://app:[Filtered]@db.internal/shop"


def test_scrub_values_can_be_turned_off_and_allowed_values_stay():
    event = _plant(CapturingTransport(), scrub_values=False)
    assert ("aws_key_id", ".extra.x_aws_key_id") in leaks(event)
    event = _plant(CapturingTransport(), scrub_allow=[SECRETS["card_amex"][0]])
    assert {k for k, _ in leaks(event)} == {"card_amex"}


def test_extra_patterns_are_filtered():
    transport = CapturingTransport()
    releasetag.init(transport=transport, default_integrations=False,
                    scrub_patterns=[r"ACME-\d{6}"])  # fmt: skip
    try:
        releasetag.capture_message("licence ACME-123456 expired")
        assert transport.events[0]["logentry"]["formatted"] == "licence [Filtered] expired"
    finally:
        releasetag.close(0)


def test_secrets_used_as_mapping_keys_are_filtered_and_no_value_is_lost():
    transport = CapturingTransport()
    releasetag.init(transport=transport, default_integrations=False)
    try:
        card, stripe = SECRETS["card_spaces"][0], SECRETS["stripe_live"][0]
        releasetag.set_context("by_key", {card: "visa", stripe: "live", "other": 1})
        releasetag.set_extra("cards", {card: 1, SECRETS["card_dashes"][0]: 2, "x": 3})
        releasetag.capture_message("keys")
        event = json.loads(json.dumps(transport.events[0]))
    finally:
        releasetag.close(0)
    assert leaks(event) == []
    assert event["contexts"]["by_key"] == {"[Filtered]": "visa", "[Filtered] #2": "live",
                                          "other": 1}  # fmt: skip
    assert event["extra"]["cards"] == {"[Filtered]": 1, "[Filtered] #2": 2, "x": 3}


# --- hypothesis: any secret of the new kinds, anywhere in any text ---------------------------
SAFE_CHARS = st.characters(whitelist_categories=("L", "N"), max_codepoint=0x24F)
# "app:12345/..." reads as host app, port 12345 (as in https://host:443/@user), so a password
# of digits then "/" is a port by the URL rules and stays, and "pw@host/" reads as credentials
# "pw" for host "host" (docs/sdk.md's scrubbing section)
PASSWORD = st.text(
    SAFE_CHARS | st.sampled_from("/@!%^*()[]{}+-_."), min_size=6, max_size=40
).filter(lambda p: not re.match(r"[0-9]*/", p) and not re.search(r"@[^@/]+/", p))
AROUND = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).map(
    lambda t: t.replace("@", "")
)


def test_a_url_with_an_empty_host_still_loses_its_password():
    # libpq's Unix-socket form: no host between '@' and the path
    out = _redact("postgresql://app:s3cret@/shop?host=/var/run/postgresql")
    assert out == "postgresql://app:[Filtered]@/shop?host=/var/run/postgresql"


def _redact(text: str) -> str:
    from releasetag.secret_patterns import redact

    return redact(text)


@settings(max_examples=300, deadline=None)
@given(AROUND, PASSWORD, AROUND)
@example("", "0000@/", "")  # found by hypothesis: '@/' once read as an empty host
@example("BASIC", "000000", "")  # found by hypothesis: "Basic postgres" took the URL's place
def test_any_url_password_is_filtered_whole(before, password, after):
    text = f"{before} postgres://app:{password}@db.internal:5432/shop {after}"
    out = _redact(text)
    assert "app:[Filtered]@db.internal:5432/shop" in out, out


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["password", "PASSWORD", "passwd", "pwd", "DB_PASSWORD"]),
       st.sampled_from(["=", " = "]), PASSWORD.filter(lambda p: not set(p) & set("'\"&;,")),
       AROUND)  # fmt: skip
def test_any_password_assignment_is_filtered(key, eq, password, after):
    out = _redact(f"host=db user=app {key}{eq}{password} {after}")
    assert out.startswith(f"host=db user=app {key}{eq}[Filtered] "), out


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"),
               min_size=40, max_size=40),
       st.sampled_from(["aws_secret_access_key=", "AWS_SECRET_ACCESS_KEY: ",
                        'aws_secret_access_key = "']), AROUND)  # fmt: skip
def test_any_aws_secret_assignment_is_filtered(secret, prefix, around):
    out = _redact(f"{around} {prefix}{secret}")
    assert out.endswith(f" {prefix}[Filtered]"), out


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=9, max_size=11),
       st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
               min_size=24, max_size=24), AROUND)  # fmt: skip
def test_any_slack_webhook_is_filtered(team, token, around):
    url = f"https://hooks.slack.com/services/T{team}/B{team}/{token}"
    out = _redact(f"{around} posting to {url}")
    assert out.endswith(" posting to https://hooks.slack.com/services/[Filtered]"), out
