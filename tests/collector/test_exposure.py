"""Who reaches the collector under which name: pages behind the token when asked (and off
loopback), a sign-in form that sets a cookie, and requests naming a host the collector was
not told about refused (DNS rebinding)."""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from releasetag.collector.access import Access, host_of, is_loopback
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
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _h, body = raw(guarded, "GET", "/", {"Cookie": cookie.split(";", 1)[0]})
    assert status == 200 and b"Releases" in body
    assert raw(guarded, "GET", "/", {"Cookie": "releasetag_token=guess"})[0] == 401


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
    assert exposed.page_allowed(None, "a=b; releasetag_token=t0k")
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
