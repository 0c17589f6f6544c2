"""Who reaches the collector under which name: pages behind the token when asked (and off
loopback), a sign-in form that sets a cookie, and requests naming a host the collector was
not told about refused (DNS rebinding)."""

from __future__ import annotations

import http.client
import json
import time
import uuid

import pytest

from releasetag.collector.access import (
    Access,
    FailureLimit,
    PageSessions,
    client_key,
    host_of,
    is_loopback,
)
from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope
from tests.support.collector import Collector

PAGES = ["/", "/releases/x/", "/events/" + "0" * 32 + "/", "/issues/1/"]


def raw(collector, method, path, headers=None, body=None):
    """One request with exactly these headers (Host included), over http.client."""
    port = int(collector.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        hdrs = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        for k, v in hdrs.items():
            if v is not None:
                conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def guarded(tmp_path):
    c = Collector(str(tmp_path / "data"), extra_args=["--page-token", "--allowed-host", "ci.lan"])
    try:
        yield c
    finally:
        c.stop()


def test_pages_need_the_token_and_the_form_sets_a_cookie(guarded):
    assert guarded.info["pages_need_token"] is True
    for path in PAGES:
        status, _headers, body = raw(guarded, "GET", path)
        assert status == 401, path
        assert b'action="/login/"' in body
    assert raw(guarded, "GET", "/", {"Authorization": f"Bearer {guarded.token}"})[0] == 200
    assert raw(guarded, "GET", "/", {"Authorization": "Bearer nope"})[0] == 401
    status, headers, _ = raw(
        guarded, "POST", "/login/", {"Content-Type": "application/x-www-form-urlencoded"},
        b"token=wrong",
    )  # fmt: skip
    assert status == 401 and "Set-Cookie" not in headers
    status, headers, _ = raw(
        guarded, "POST", "/login/", {"Content-Type": "application/x-www-form-urlencoded"},
        f"token={guarded.token}".encode(),
    )  # fmt: skip
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    attributes = [a.strip() for a in cookie.split(";")]
    assert {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"} <= set(attributes)
    status, _h, body = raw(guarded, "GET", "/", {"Cookie": cookie.split(";", 1)[0]})
    assert status == 200 and b"Releases" in body
    port = guarded.url.rsplit(":", 1)[1]
    assert raw(guarded, "GET", "/", {"Cookie": f"releasetag_session_{port}=guess"})[0] == 401
    # the old cookie that held the token itself opens nothing any more
    assert raw(guarded, "GET", "/", {"Cookie": f"releasetag_token={guarded.token}"})[0] == 401


def test_ingest_and_the_web_api_keep_their_own_keys(guarded):
    dsn = Dsn.parse(guarded.dsn)
    event = {"event_id": uuid.uuid4().hex, "message": "m"}
    status, _h, body = raw(
        guarded, "POST", f"/api/{dsn.project_id}/envelope/",
        {"X-Sentry-Auth": dsn.auth_header()}, event_envelope(event).serialize(),
    )  # fmt: skip
    assert status == 200, body
    status, _h, body = raw(
        guarded, "GET", "/api/0/organizations/local/releases/",
        {"Authorization": f"Bearer {guarded.token}"},
    )  # fmt: skip
    assert status == 200 and json.loads(body) == []


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("[::1]:{port}", True),
        ("ci.lan:{port}", True),  # --allowed-host
        ("ci.lan", True),
        ("evil.example:{port}", False),
        ("evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("", True),  # no Host (HTTP/1.0): nothing to rebind
    ],
)
def test_requests_must_name_the_collector(guarded, host, allowed):
    port = guarded.url.rsplit(":", 1)[1]
    value = host.format(port=port) or None
    headers = {"Host": value, "Authorization": f"Bearer {guarded.token}"}
    for path in ("/", "/api/0/organizations/local/releases/", "/health"):
        status, _h, body = raw(guarded, "GET", path, headers)
        if allowed:
            assert status == 200, (path, body)
        else:
            assert status == 421, (path, body)
            assert "does not answer to the name" in json.loads(body)["detail"]


def test_loopback_default_leaves_pages_open_but_still_checks_the_host(collector):
    assert collector.info["pages_need_token"] is False
    assert collector.info["listen"] == collector.url.split("//", 1)[1]
    assert raw(collector, "GET", "/")[0] == 200
    assert raw(collector, "GET", "/", {"Host": "rebind.example"})[0] == 421


def test_access_rules_off_loopback():
    exposed = Access("0.0.0.0", "t0k", names=["build-host"])
    assert exposed.pages_need_token
    assert not exposed.page_allowed(None, None)
    assert exposed.page_allowed("Bearer t0k", None)
    assert not exposed.page_allowed(None, "a=b; releasetag_token=t0k")
    sid = exposed.sessions.start()
    assert exposed.page_allowed(None, f"a=b; releasetag_session_0={sid}")
    assert not exposed.page_allowed(None, f"releasetag_session_9000={sid}")  # another port's
    assert exposed.host_allowed("build-host:9000", "10.0.0.5")
    assert exposed.host_allowed("10.0.0.5:9000", "10.0.0.5")  # the address it arrived on
    assert not exposed.host_allowed("10.0.0.6:9000", "10.0.0.5")
    assert not exposed.host_allowed("localhost:9000", "10.0.0.5")  # not on loopback
    assert not Access("0.0.0.0", "t", open_pages=True).pages_need_token
    assert Access("127.0.0.1", "t", page_token=True).pages_need_token


def test_names():
    assert is_loopback("127.0.0.9") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and not is_loopback("0.0.0.0") and not is_loopback("10.1.1.1")
    assert host_of("[::1]:9000") == "::1" and host_of("A.B:80") == "a.b" and host_of("h") == "h"
    from releasetag.cli.cmd_serve import _every

    assert _every("0.0.0.0:9000") == " (every interface)" and _every("127.0.0.1:9") == ""


def sign_in(collector, token):
    """POST /login/ with ``token``: (status, headers)."""
    status, headers, _body = raw(
        collector, "POST", "/login/", {"Content-Type": "application/x-www-form-urlencoded"},
        f"token={token}".encode(),
    )  # fmt: skip
    return status, headers


def test_the_session_cookie_is_not_the_token_and_opens_no_api(guarded):
    status, headers = sign_in(guarded, guarded.token)
    assert status == 303
    name, _, sid = headers["Set-Cookie"].split(";", 1)[0].partition("=")
    assert name == "releasetag_session_" + guarded.url.rsplit(":", 1)[1]
    assert len(sid) >= 32 and sid != guarded.token and guarded.token not in headers["Set-Cookie"]
    assert sign_in(guarded, guarded.token)[1]["Set-Cookie"] != headers["Set-Cookie"]
    api = "/api/0/organizations/local/releases/"
    assert raw(guarded, "GET", api, {"Authorization": f"Bearer {sid}"})[0] == 401
    assert raw(guarded, "GET", api, {"Cookie": f"{name}={sid}"})[0] == 401
    assert raw(guarded, "GET", "/", {"Cookie": f"{name}={sid}"})[0] == 200


def test_a_restart_signs_everybody_out(tmp_path):
    data = str(tmp_path / "data")
    first = Collector(data, extra_args=["--page-token"])
    try:
        _status, headers = sign_in(first, first.token)
        sid = headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]
        cookie = f"releasetag_session_{first.url.rsplit(':', 1)[1]}={sid}"
        assert raw(first, "GET", "/", {"Cookie": cookie})[0] == 200
    finally:
        first.stop()
    second = Collector(data, extra_args=["--page-token"])
    try:
        # the same cookie as the browser holds it, under the new port's name
        cookie = f"releasetag_session_{second.url.rsplit(':', 1)[1]}={sid}"
        status, _h, body = raw(second, "GET", "/", {"Cookie": cookie})
        assert status == 401 and b'action="/login/"' in body
        assert second.token == first.token
    finally:
        second.stop()


WINDOW = 4  # seconds: RELEASETAG_SERVE_LOGIN_WINDOW for the throttling test


@pytest.fixture
def throttled(tmp_path):
    c = Collector(
        str(tmp_path / "data"),
        extra_args=["--page-token"],
        env={"RELEASETAG_SERVE_LOGIN_WINDOW": str(WINDOW)},
    )
    try:
        yield c
    finally:
        c.stop()


def test_the_sixth_wrong_token_in_a_window_locks_the_address_out(throttled):
    started = time.monotonic()
    for n in range(5):
        assert sign_in(throttled, f"wrong-{n}")[0] == 401
    if time.monotonic() - started >= WINDOW:
        pytest.skip("the machine was too slow to send five sign-ins within the window")
    status, headers = sign_in(throttled, throttled.token)  # the right token, too late
    assert status == 429 and "Set-Cookie" not in headers
    assert 1 <= int(headers["Retry-After"]) <= WINDOW
    bearer = {"Authorization": f"Bearer {throttled.token}"}
    status, headers, body = raw(throttled, "GET", "/api/0/organizations/local/releases/", bearer)
    assert status == 429 and "try again in" in json.loads(body)["detail"]
    assert raw(throttled, "GET", "/", bearer)[0] == 429
    deadline = time.monotonic() + WINDOW + 20
    while sign_in(throttled, throttled.token)[0] == 429:
        assert time.monotonic() < deadline, "still locked out long after the window"
        time.sleep(0.2)
    assert time.monotonic() - started >= WINDOW - 0.5  # not before the window passed
    assert raw(throttled, "GET", "/api/0/organizations/local/releases/", bearer)[0] == 200


def test_wrong_api_tokens_count_too(throttled):
    for _ in range(5):
        assert throttled.request("GET", "/api/0/organizations/", token="x" * 20)[0] == 401
    assert throttled.request("GET", "/api/0/organizations/")[0] == 429
    # pages without any credentials still get the form, not 429 (nothing was guessed)
    assert raw(throttled, "GET", "/")[0] == 401


def test_failure_limit_and_sessions_with_a_clock():
    now = [1000.0]
    limit = FailureLimit(window=60, allowed=5, clock=lambda: now[0])
    for _ in range(5):
        assert limit.wait("10.0.0.1") == 0
        limit.failed("10.0.0.1")
        now[0] += 1
    assert limit.wait("10.0.0.1") == pytest.approx(55)  # the first failure ages out at 1060
    assert limit.wait("10.0.0.2") == 0  # per address
    now[0] = 1060
    assert limit.wait("10.0.0.1") == 0
    sessions = PageSessions(seconds=12 * 3600, clock=lambda: now[0])
    sid = sessions.start()
    assert sessions.valid(sid) and not sessions.valid("x") and not sessions.valid(None)
    now[0] += 12 * 3600 - 1
    assert sessions.valid(sid)
    now[0] += 1
    assert not sessions.valid(sid)


def test_client_key_groups_ipv6_by_network():
    assert client_key("10.1.2.3") == "10.1.2.3"
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3"
    assert (
        client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key(None) == "" and client_key("unix-socket") == "unix-socket"
