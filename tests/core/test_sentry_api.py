"""sentry-sdk's calls and options behave as in sentry-sdk (in process, a capturing transport;
the side-by-side run against sentry-sdk itself is tests/parity/test_sentry_corpus.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

import releasetag
from releasetag import ConfigurationError
from releasetag.options_compat import UnknownOptionError
from releasetag.testing import CapturingTransport, capture_events


def test_an_unknown_option_names_the_nearest_one_and_is_a_type_error_like_sentry_sdks():
    with pytest.raises(UnknownOptionError, match="did you mean 'release'") as err:
        releasetag.init(relase="x")
    assert isinstance(err.value, TypeError) and isinstance(err.value, ConfigurationError)
    with pytest.raises(TypeError, match="unknown option 'extra'"):
        releasetag.init(extra={"a": 1})


@pytest.mark.parametrize(
    "options, says",
    [
        ({"sample_rate": "high"}, "option sample_rate must be a number, got 'high'"),
        ({"max_breadcrumbs": -1}, "option max_breadcrumbs must be an int >= 0, got -1"),
        ({"integrations": logging}, "option integrations must be a list"),
        ({"before_send": "drop"}, "option before_send must be a callable"),
        ({"traces_sample_rate": "1"}, "option traces_sample_rate must be a number"),
    ],
)
def test_a_wrong_type_is_one_configuration_error_naming_option_and_type(options, says):
    with pytest.raises(ConfigurationError, match=says):
        releasetag.init(**options)


def test_an_option_set_but_not_implemented_says_so_once_in_one_line(capsys):
    from releasetag import options_compat

    options_compat._warned.discard("profiles_sample_rate")
    for _ in range(2):
        client = releasetag.init(profiles_sample_rate=1.0, traces_sample_rate=0.0)
        assert client.options["profiles_sample_rate"] == 1.0
    lines = capsys.readouterr().err.splitlines()
    assert [line for line in lines if line.startswith("releasetag: option")] == [
        "releasetag: option profiles_sample_rate accepted, not implemented: releasetag does not "
        "profile: no profile is sent"
    ]


def test_new_scope_set_user_replaces_the_outer_user():
    with capture_events() as events:
        releasetag.set_user({"id": "1", "email": "outer@example.com"})
        with releasetag.new_scope() as scope:
            scope.set_user({"id": "2"})
            releasetag.capture_message("inner")
        releasetag.capture_message("outer")
    assert [e["user"] for e in events] == [{"id": "2"}, {"id": "1", "email": "outer@example.com"}]


def test_capture_with_scope_keyword_arguments_applies_to_that_event_only():
    with capture_events() as events:
        try:
            raise KeyError("k")
        except KeyError as exc:
            releasetag.capture_exception(
                exc, tags={"t": "1"}, extras={"e": 1}, extra={"e2": 2}, user={"id": "u"},
                contexts={"c": {"x": 1}}, level="warning", fingerprint=["f"],
            )  # fmt: skip
        releasetag.capture_message("plain", scope=lambda s: s.set_tag("via", "callback"))
        releasetag.capture_message("after")
    first, second, third = events
    assert first["tags"]["t"] == "1" and first["extra"] == {"e": 1, "e2": 2}
    assert first["user"] == {"id": "u"} and first["contexts"]["c"] == {"x": 1}
    assert first["level"] == "warning" and first["fingerprint"] == ["f"]
    assert second["tags"] == {"via": "callback"}
    assert "tags" not in third and "user" not in third


def test_push_configure_hub_and_scope_methods():
    with capture_events() as events:
        releasetag.configure_scope(lambda s: s.set_tag("configured", "yes"))
        with releasetag.push_scope() as scope:
            scope.set_tag("pushed", "yes")
            releasetag.Hub.current.capture_message("hub")
        releasetag.push_scope(lambda s: s.capture_message("callback", level="error"))
        releasetag.get_current_scope().set_transaction_name("checkout")
        releasetag.get_isolation_scope().capture_message("isolation")
    assert events[0]["tags"] == {"configured": "yes", "pushed": "yes"}
    assert events[1]["level"] == "error" and events[1]["tags"] == {"configured": "yes"}
    assert events[2]["transaction"] == "checkout"
    assert releasetag.is_initialized() is False  # closed at the end of capture_events


def test_init_is_a_context_manager_and_flush_async_flushes():
    transport = CapturingTransport()
    with releasetag.init(transport=transport, default_integrations=False) as client:
        assert releasetag.is_initialized() and client.options["release"] is None
        releasetag.capture_message("inside")
        asyncio.run(releasetag.flush_async(1.0))
    assert releasetag.get_client() is None and len(transport.events) == 1


def test_attachments_travel_with_the_events_of_their_scope(tmp_path):
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    transport = CapturingTransport()
    with releasetag.init(transport=transport, default_integrations=False):
        with releasetag.new_scope() as scope:
            scope.add_attachment(bytes=b"hello", filename="hello.txt", content_type="text/plain")
            scope.add_attachment(path=str(path))
            event_id = releasetag.capture_message("with files")
        releasetag.capture_message("without")
    assert transport.attachments == [
        (event_id, "hello.txt", "text/plain", b"hello"),
        (event_id, "report.csv", "application/octet-stream", b"a,b\n1,2\n"),
    ]


def test_implemented_sentry_options():
    class EventScrubber:  # sentry-sdk's shape: a denylist of keys
        denylist = ["order_ref"]

    with capture_events(
        attach_stacktrace=True, max_value_length=10, event_scrubber=EventScrubber()
    ) as events:
        releasetag.set_extra("order_ref", "A-17")
        releasetag.capture_message("a message longer than ten")
    event = events[0]
    assert event["logentry"]["message"] == "a messa..."
    frames = event["threads"]["values"][0]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "test_implemented_sentry_options"
    assert event["extra"]["order_ref"] == "[Filtered]"


def test_disabled_and_auto_enabling_integrations():
    from releasetag.integrations.logging import LoggingIntegration

    client = releasetag.init("https://k@127.0.0.1:9/1", disabled_integrations=[LoggingIntegration])
    assert "logging" not in client.integrations and "excepthook" in client.integrations
    client = releasetag.init("https://k@127.0.0.1:9/1", auto_enabling_integrations=False)
    assert "asyncio" not in client.integrations and "logging" in client.integrations
    releasetag.close(0)
