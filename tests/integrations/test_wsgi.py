"""ReleasetagMiddleware called directly: scopes, request data, errors from every phase."""

from __future__ import annotations

import io
from wsgiref.util import FileWrapper, setup_testing_defaults

import pytest

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware

from .conftest import flushed_events, relay_errors


def make_environ(path="/orders/7", query="page=2&token=abc", **headers):
    environ = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "shop.example:8080",
        "SERVER_NAME": "shop.example",
        "SERVER_PORT": "8080",
        "REMOTE_ADDR": "198.51.100.4",
        "wsgi.file_wrapper": FileWrapper,
    }
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    setup_testing_defaults(environ)
    return environ


def start_response(status, headers, exc_info=None):
    return lambda data: None


def run(app, environ=None):
    body = app(environ or make_environ(), start_response)
    try:
        return b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()


def test_error_in_app_call_is_reported_unhandled_and_reraised(rt, recorder):
    rt()

    def app(environ, start_response):
        releasetag.set_tag("order", "7")
        raise ZeroDivisionError("bad math")

    with pytest.raises(ZeroDivisionError):
        run(
            ReleasetagMiddleware(app),
            make_environ(cookie="sid=1", authorization="Basic eA==", x_forwarded_for="203.0.113.1"),
        )
    (event,) = flushed_events(recorder, 1)
    assert event["release"] == "myapp@1.2.3" and event["environment"] == "testing"
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "ZeroDivisionError"
    assert exc["mechanism"]["handled"] is False and exc["mechanism"]["type"] == "wsgi"
    assert event["tags"]["order"] == "7"
    req = event["request"]
    assert req["method"] == "POST"
    assert req["url"] == "http://shop.example:8080/orders/7"
    assert req["query_string"] == "page=2&token=[Filtered]"  # a token in the query never leaves
    assert req["headers"]["Cookie"] == "[Filtered]"
    assert req["headers"]["Authorization"] == "[Filtered]"
    assert req["headers"]["X-Forwarded-For"] == "[Filtered]"
    assert req["headers"]["Host"] == "shop.example:8080"
    assert req["env"] == {"SERVER_NAME": "shop.example", "SERVER_PORT": "8080"}
    assert "user" not in event
    assert len(event["contexts"]["trace"]["trace_id"]) == 32
    assert relay_errors(event) is None
    # the request's tag stayed in the request's scope
    releasetag.capture_message("after the request")
    events = flushed_events(recorder, 2)
    assert "order" not in (events[1].get("tags") or {})


def test_send_default_pii_keeps_headers_and_sets_user_ip(rt, recorder):
    rt(send_default_pii=True)

    def app(environ, start_response):
        raise ValueError("x")

    with pytest.raises(ValueError):
        run(ReleasetagMiddleware(app), make_environ(cookie="sid=1", x_forwarded_for="203.0.113.1"))
    (event,) = flushed_events(recorder, 1)
    assert event["request"]["headers"]["Cookie"] == "sid=1"
    assert event["request"]["headers"]["X-Forwarded-For"] == "203.0.113.1"
    assert event["request"]["env"]["REMOTE_ADDR"] == "198.51.100.4"
    assert event["user"]["ip_address"] == "203.0.113.1"


def test_errors_while_iterating_and_closing_are_reported(rt, recorder):
    rt()

    class Body:
        def __init__(self, fail_in):
            self.fail_in = fail_in

        def __iter__(self):
            yield b"a"
            if self.fail_in == "iter":
                raise KeyError("while iterating")

        def close(self):
            if self.fail_in == "close":
                raise OSError("while closing")

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body(environ["QUERY_STRING"])

    mw = ReleasetagMiddleware(app)
    with pytest.raises(KeyError):
        run(mw, make_environ(path="/iter", query="iter"))
    with pytest.raises(OSError):
        run(mw, make_environ(path="/close", query="close"))
    assert run(mw, make_environ(path="/fine", query="")) == b"a"
    events = flushed_events(recorder, 2)
    assert [(e["exception"]["values"][-1]["type"], e["request"]["url"]) for e in events] == [
        ("KeyError", "http://shop.example:8080/iter"),
        ("OSError", "http://shop.example:8080/close"),
    ]
    assert all(e["exception"]["values"][-1]["mechanism"]["handled"] is False for e in events)


def test_file_wrapper_response_is_passed_through_untouched(rt):
    rt()
    made = []

    def app(environ, start_response):
        start_response("200 OK", [])
        made.append(environ["wsgi.file_wrapper"](io.BytesIO(b"file bytes")))
        return made[0]

    response = ReleasetagMiddleware(app)(make_environ(), start_response)
    assert response is made[0]  # the server can still recognise it and use sendfile


def test_incoming_sentry_trace_is_continued(rt, recorder):
    rt()

    def app(environ, start_response):
        releasetag.capture_message("inside")
        start_response("200 OK", [])
        return [b"ok"]

    trace_id, parent = "771a43a4192642f0b136d5159a501700", "b1c2d3e4f5a6b7c8"
    assert (
        run(ReleasetagMiddleware(app), make_environ(sentry_trace=f"{trace_id}-{parent}-1")) == b"ok"
    )
    (event,) = flushed_events(recorder, 1)
    trace = event["contexts"]["trace"]
    assert trace["trace_id"] == trace_id and trace["parent_span_id"] == parent
    assert event["request"]["url"] == "http://shop.example:8080/orders/7"


def test_without_client_the_app_runs_unchanged():
    releasetag.close()

    def app(environ, start_response):
        start_response("200 OK", [])
        return iter([b"plain"])

    assert run(ReleasetagMiddleware(app)) == b"plain"
