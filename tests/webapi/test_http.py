"""The Web API client against the recording server process: retries, errors, pagination."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from releasetag.build.config import load_config
from releasetag.build.webapi import ApiClient, ApiError, releases, repos

TOKEN = "sntrys_secret-token-value-xyz"


@pytest.fixture
def client(recorder, monkeypatch):
    monkeypatch.setenv("RELEASETAG_HTTP_BACKOFF", "0.01")
    cfg = load_config(
        url=recorder.url,
        auth_token="tok-123",
        org="acme",
        projects=["web"],
        env={},
        home="/nonexistent",
    )
    c = ApiClient(cfg)
    yield c
    c.close()


def test_bearer_auth_user_agent_and_json_body(client, recorder):
    recorder.respond({"path": "/releases/", "status": 201, "body": {"version": "1.0"}})
    assert releases.new_release(client, "acme", "1.0", ["web"]) == ({"version": "1.0"}, True)
    (req,) = recorder.requests("/api/0/organizations/acme/releases/")
    assert req["method"] == "POST"
    assert req["headers"]["authorization"] == "Bearer tok-123"
    assert req["headers"]["user-agent"].startswith("releasetag/")
    assert req.json() == {"version": "1.0", "projects": ["web"]}


def test_version_is_escaped_in_paths(client, recorder):
    recorder.respond({"path": "/releases/", "body": {"version": "a+b c"}})
    releases.get_release(client, "acme", "pkg@1.0+b c")
    (req,) = recorder.requests("/releases/")
    assert req["path"] == "/api/0/organizations/acme/releases/pkg%401.0%2Bb%20c/"


def test_401_names_the_variable_to_set(client, recorder):
    recorder.respond({"status": 401, "body": {"detail": "Invalid token"}})
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "acme", "1.0")
    msg = info.value.message
    assert "401" in msg and "RELEASETAG_AUTH_TOKEN" in msg and "Invalid token" in msg
    assert "tok-123" not in msg
    assert len(recorder.requests()) == 1  # not retried


def test_404_names_org_and_release(client, recorder):
    recorder.respond({"status": 404, "body": {"detail": "The requested resource does not exist"}})
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "acme", "1.0")
    assert "release '1.0' not found in organization 'acme'" in info.value.message
    with pytest.raises(ApiError) as info:
        releases.list_releases(client, "acme", "web")
    assert "'acme'" in info.value.message and "'web'" in info.value.message


def test_400_shows_server_field_errors(client, recorder):
    recorder.respond({"status": 400, "body": {"projects": ["Invalid project slugs"]}})
    with pytest.raises(ApiError) as info:
        releases.new_release(client, "acme", "1.0", ["nope"])
    assert "projects: Invalid project slugs" in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(client, recorder, status):
    recorder.respond(
        {"status": status, "times": 2, "body": {"detail": "boom"}}, {"body": {"version": "1.0"}}
    )
    assert releases.get_release(client, "acme", "1.0") == {"version": "1.0"}
    assert len(recorder.requests()) == 3


def test_429_waits_for_retry_after(client, recorder):
    recorder.respond({"status": 429, "times": 1, "headers": {"Retry-After": "1"}}, {"body": []})
    start = time.monotonic()
    assert repos.list_repos(client, "acme") == []
    assert time.monotonic() - start >= 0.9
    first, second = recorder.requests()
    assert second["time"] - first["time"] >= 0.9


def test_gives_up_after_retries_with_one_line(recorder, monkeypatch):
    monkeypatch.setenv("RELEASETAG_HTTP_BACKOFF", "0")
    cfg = load_config(url=recorder.url, auth_token="t", org="acme", env={}, home="/x")
    client = ApiClient(cfg, retries=2)
    recorder.respond({"status": 503, "body": {"detail": "maintenance"}})
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "acme", "1.0")
    assert info.value.message == (
        "server error 503 on GET /organizations/acme/releases/1.0/ "
        "after 2 retries (server said: maintenance)"
    )
    assert len(recorder.requests()) == 3


def test_read_timeout_is_retried_then_reported(recorder):
    cfg = load_config(url=recorder.url, auth_token="t", org="acme", env={}, home="/x")
    client = ApiClient(cfg, timeout=(2, 0.3), retries=1, backoff=0)
    recorder.respond({"delay": 1.5, "body": {}})
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "acme", "1.0")
    assert "did not answer in time" in info.value.message
    assert len(recorder.requests()) == 2


def test_connection_refused_names_the_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg = load_config(url=f"http://127.0.0.1:{port}", auth_token="t", org="a", env={}, home="/x")
    client = ApiClient(cfg, retries=1, backoff=0)
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "a", "1.0")
    assert f"cannot connect to http://127.0.0.1:{port}/" in info.value.message
    assert "connection refused" in info.value.message


def test_pagination_follows_link_cursor(client, recorder):
    link1 = (
        f'<{recorder.url}/api/0/organizations/acme/repos/?cursor=0:0:1>; rel="previous"; '
        'results="false"; cursor="0:0:1", '
        f'<{recorder.url}/api/0/organizations/acme/repos/?cursor=0:100:0>; rel="next"; '
        'results="true"; cursor="0:100:0"'
    )
    link2 = (
        f'<{recorder.url}/api/0/organizations/acme/repos/?cursor=0:200:0>; rel="next"; '
        'results="false"; cursor="0:200:0"'
    )
    recorder.respond(
        {"times": 1, "headers": {"Link": link1}, "body": [{"name": "a/one"}]},
        {"times": 1, "headers": {"Link": link2}, "body": [{"name": "b/two"}]},
    )
    assert [r["name"] for r in repos.list_repos(client, "acme")] == ["a/one", "b/two"]
    reqs = recorder.requests()
    assert [r["query"] for r in reqs] == [{}, {"cursor": "0:100:0"}]


def test_token_never_logged(recorder, caplog):
    caplog.set_level(logging.DEBUG)
    cfg = load_config(url=recorder.url, auth_token=TOKEN, org="acme", env={}, home="/x")
    client = ApiClient(cfg, retries=0)
    recorder.respond({"status": 401})
    with pytest.raises(ApiError) as info:
        releases.get_release(client, "acme", "1.0")
    assert TOKEN not in info.value.message
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(cfg) and "<set>" in repr(cfg)


def test_429_exhausted_is_one_line(recorder):
    cfg = load_config(url=recorder.url, auth_token="t", org="acme", env={}, home="/x")
    client = ApiClient(cfg, retries=1, backoff=0)
    recorder.respond(
        {"status": 429, "headers": {"Retry-After": "0"}, "body": {"detail": "slow down"}}
    )
    with pytest.raises(ApiError) as info:
        repos.list_repos(client, "acme")
    assert info.value.message == (
        "rate limited by the server (429) on GET "
        "/organizations/acme/repos/ after 1 retries "
        "(server said: slow down)"
    )
    assert len(recorder.requests()) == 2


def test_retry_after_is_capped(recorder, monkeypatch):
    import releasetag.build.webapi.client as http_mod

    monkeypatch.setattr(http_mod, "MAX_RETRY_AFTER", 0.2)
    cfg = load_config(url=recorder.url, auth_token="t", org="acme", env={}, home="/x")
    client = ApiClient(cfg, retries=1, backoff=0)
    recorder.respond({"status": 429, "times": 1, "headers": {"Retry-After": "3600"}}, {"body": []})
    start = time.monotonic()
    assert repos.list_repos(client, "acme") == []
    assert time.monotonic() - start < 5
