"""``releasetag releases ...`` and ``deploys ...`` run as subprocesses against the recording
server: requests sent, output, exit codes and one-line errors."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

RELEASE = {
    "version": "1.0",
    "dateCreated": "2024-01-01T00:00:00Z",
    "projects": [{"slug": "web", "name": "Web"}],
    "newGroups": 2,
    "lastEvent": None,
    "dateReleased": None,
    "url": None,
    "lastCommit": {"id": "abc123"},
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_new_posts_release_with_projects_and_start(rt, recorder):
    recorder.respond({"path": "/releases/", "status": 201, "body": RELEASE})
    res = rt("releases", "new", "1.0")
    assert res.code == 0, res
    assert res.out.strip() == "Created release 1.0"
    (req,) = recorder.requests()
    assert (req["method"], req["path"]) == ("POST", "/api/0/organizations/acme/releases/")
    body = req.json()
    assert body["version"] == "1.0" and body["projects"] == ["web"]
    assert _when(body["dateStarted"]).tzinfo is not None
    assert "dateReleased" not in body
    assert req["headers"]["authorization"] == "Bearer test-token-1234"


def test_new_finalize_url_and_208(rt, recorder):
    recorder.respond({"path": "/releases/", "status": 208, "body": RELEASE})
    res = rt(
        "--url",
        recorder.url,
        "releases",
        "new",
        "1.0",
        "--finalize",
        "--url",
        "https://example.com/changes/1.0",
        "-p",
        "web",
        "-p",
        "api",
        "--json",
    )
    assert res.code == 0, res
    out = json.loads(res.out)
    assert out["created"] is False and out["finalized"] is True
    body = recorder.requests()[0].json()
    assert body["url"] == "https://example.com/changes/1.0"
    assert body["projects"] == ["web", "api"]
    assert body["dateReleased"] == body["dateStarted"]


def test_new_without_version_uses_detected_release(rt, recorder):
    recorder.respond({"path": "/releases/", "status": 201, "body": RELEASE})
    res = rt("releases", "new", RELEASETAG_RELEASE="shop@2.3.4")
    assert res.code == 0, res
    assert recorder.requests()[0].json()["version"] == "shop@2.3.4"


def test_global_flags_before_and_after_the_command(rt, recorder, api_env):
    env = {k: v for k, v in api_env.items() if not k.startswith("SENTRY_")}
    recorder.respond({"body": []})
    res = rt(
        "--url",
        recorder.url,
        "--auth-token",
        "flag-token",
        "-o",
        "org1",
        "releases",
        "list",
        env=env,
    )
    assert res.code == 0, res
    res = rt(
        "releases",
        "--url",
        recorder.url,
        "--auth-token",
        "t2",
        "list",
        "--org",
        "org2",
        "--project",
        "p2",
        env=env,
    )
    assert res.code == 0, res
    first, second = recorder.requests()
    assert first["path"] == "/api/0/organizations/org1/releases/"
    assert first["headers"]["authorization"] == "Bearer flag-token"
    assert second["path"] == "/api/0/projects/org2/p2/releases/"


def test_releasetag_env_beats_sentry_env(rt, recorder):
    recorder.respond({"body": []})
    res = rt("releases", "list", RELEASETAG_ORG="rt-org", RELEASETAG_PROJECT="rt-proj")
    assert res.code == 0, res
    assert recorder.requests()[0]["path"] == "/api/0/projects/rt-org/rt-proj/releases/"


def test_sentryclirc_in_project_folder(rt, recorder, api_env, tmp_path):
    env = {k: v for k, v in api_env.items() if not k.startswith("SENTRY_")}
    (tmp_path / "proj").mkdir()
    (tmp_path / ".sentryclirc").write_text(
        f"[auth]\ntoken=rc-token\n[defaults]\nurl={recorder.url}\norg=rc-org\nproject=rc-p\n"
    )
    res = rt("releases", "info", "1.0", cwd=tmp_path / "proj", env=env)
    assert res.code == 0, res
    req = recorder.requests()[0]
    assert req["path"] == "/api/0/organizations/rc-org/releases/1.0/"
    assert req["headers"]["authorization"] == "Bearer rc-token"


@pytest.mark.parametrize(
    "args,method,path,body",
    [
        (["finalize", "1.0"], "PUT", "/releases/1.0/", {"projects": ["web"]}),
        (
            ["archive", "1.0"],
            "POST",
            "/releases/",
            {"version": "1.0", "projects": [], "status": "archived"},
        ),
        (
            ["restore", "1.0"],
            "POST",
            "/releases/",
            {"version": "1.0", "projects": [], "status": "open"},
        ),
        (["delete", "1.0"], "DELETE", "/releases/1.0/", None),
    ],
)
def test_simple_actions(rt, recorder, args, method, path, body):
    res = rt("releases", *args)
    assert res.code == 0, res
    (req,) = recorder.requests()
    assert req["method"] == method
    assert req["path"] == "/api/0/organizations/acme" + path
    if body is None:
        assert req.body == b""
    else:
        got = req.json()
        got.pop("dateReleased", None)
        assert got == body


def test_finalize_with_explicit_time(rt, recorder):
    res = rt("releases", "finalize", "1.0", "--released", "2024-05-01T10:00:00+02:00")
    assert res.code == 0, res
    assert recorder.requests()[0].json()["dateReleased"] == "2024-05-01T08:00:00Z"


def test_info_with_commits_text_and_json(rt, recorder):
    commits = [
        {
            "id": "a" * 40,
            "message": "Fix the thing\n\nlong body",
            "repository": {"name": "Acme/Web"},
            "author": {"email": "ada@example.com"},
        }
    ]
    recorder.respond({"path": "/commits/", "body": commits}, {"body": RELEASE})
    res = rt("releases", "info", "1.0", "--show-commits")
    assert res.code == 0, res
    assert "Version:       1.0" in res.out and "Projects:      web" in res.out
    assert "aaaaaaaaaaaa  Acme/Web    ada@example.com  Fix the thing" in res.out
    res = rt("releases", "info", "1.0", "--show-commits", "--json")
    data = json.loads(res.out)
    assert data["version"] == "1.0" and data["commits"][0]["id"] == "a" * 40


def test_list_table(rt, recorder):
    recorder.respond({"body": [RELEASE, dict(RELEASE, version="0.9")]})
    res = rt("releases", "list")
    assert res.code == 0, res
    lines = res.out.splitlines()
    assert lines[0].split() == ["Version", "Created", "Released", "New", "issues", "Last", "event"]
    assert lines[2].startswith("1.0") and lines[3].startswith("0.9")


@pytest.mark.parametrize(
    "name,rule",
    [
        ("a/b", "must not contain '/'"),
        (".", "must not be '.' or '..'"),
        (" 1.0", "must not start or end with whitespace"),
        ("x" * 201, "at most 200 bytes"),
        ("a\tb", "tab"),
    ],
)
def test_invalid_release_names_exit_2_with_the_rule(rt, recorder, name, rule):
    res = rt("releases", "new", name)
    assert res.code == 2
    assert res.err.startswith("error: invalid release name") and rule in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert recorder.requests() == []


def test_401_names_the_variable_and_hides_the_token(rt, recorder):
    recorder.respond({"status": 401, "body": {"detail": "Invalid token"}})
    res = rt("releases", "new", "1.0")
    assert res.code == 1
    assert res.err.strip().splitlines() == [res.err.strip()]
    assert "rejected the auth token from SENTRY_AUTH_TOKEN (401)" in res.err
    assert "RELEASETAG_AUTH_TOKEN" in res.err
    assert "test-token-1234" not in res.err + res.out


def test_missing_token_is_one_line(rt, recorder, api_env):
    env = {k: v for k, v in api_env.items() if k != "SENTRY_AUTH_TOKEN"}
    res = rt("releases", "list", env=env)
    assert res.code == 1
    assert res.err.startswith("error: no auth token: set RELEASETAG_AUTH_TOKEN")
    assert recorder.requests() == []


def test_unknown_org_and_project_are_named(rt, recorder):
    recorder.respond({"status": 404, "body": {"detail": "The requested resource does not exist"}})
    res = rt("releases", "list", "-o", "nope-org", "-p", "nope-proj")
    assert res.code == 1
    assert "organization 'nope-org' or project 'nope-proj' not found (404)" in res.err
    res = rt("releases", "info", "9.9", "-o", "nope-org")
    assert "release '9.9' not found in organization 'nope-org'" in res.err


def test_missing_org_and_project(rt, recorder, api_env):
    env = {k: v for k, v in api_env.items() if k not in ("SENTRY_ORG", "SENTRY_PROJECT")}
    res = rt("releases", "list", env=env)
    assert res.code == 1 and "no organization: pass --org" in res.err
    res = rt("releases", "new", "1.0", "-o", "acme", env=env)
    assert res.code == 1 and "no project: pass --project" in res.err


def test_server_error_is_retried_then_succeeds(rt, recorder):
    recorder.respond({"status": 503, "times": 2}, {"status": 201, "body": RELEASE})
    res = rt("releases", "new", "1.0")
    assert res.code == 0, res
    assert len(recorder.requests()) == 3


def test_429_honours_retry_after(rt, recorder):
    recorder.respond(
        {"status": 429, "times": 1, "headers": {"Retry-After": "1"}},
        {"status": 201, "body": RELEASE},
    )
    res = rt("releases", "new", "1.0")
    assert res.code == 0, res
    first, second = recorder.requests()
    assert second["time"] - first["time"] >= 0.9


def test_allow_failure_turns_server_errors_into_warnings(rt, recorder):
    recorder.respond({"status": 500, "body": {"detail": "database down"}})
    res = rt("releases", "new", "1.0", RELEASETAG_HTTP_RETRIES="1")
    assert res.code == 1
    assert res.err.strip() == (
        "error: server error 500 on POST /organizations/acme/releases/ "
        "after 1 retries (server said: database down)"
    )
    res = rt("releases", "new", "1.0", "--allow-failure", RELEASETAG_HTTP_RETRIES="1")
    assert res.code == 0
    assert res.err.startswith("warning: server error 500") and "--allow-failure" in res.err
    res = rt(
        "deploys",
        "new",
        "-r",
        "1.0",
        "-e",
        "prod",
        RELEASETAG_HTTP_RETRIES="0",
        RELEASETAG_ALLOW_FAILURE="1",
    )
    assert res.code == 0 and res.err.startswith("warning:")
    # usage errors still fail
    res = rt("releases", "new", "a/b", "--allow-failure")
    assert res.code == 2


def test_unreachable_server(rt, api_env):
    res = rt("releases", "list", SENTRY_URL="http://127.0.0.1:9/", RELEASETAG_HTTP_RETRIES="0")
    assert res.code == 1
    assert res.err.startswith("error: cannot connect to http://127.0.0.1:9/ (connection refused)")


def test_usage_errors_exit_2(rt):
    assert rt("releases", "frobnicate").code == 2
    assert rt("releases").code == 2
    res = rt("releases", "set-commits", "1.0", "--initial-depth", "0")
    assert res.code == 2 and "must be at least 1" in res.err
    res = rt("releases", "set-commits", "1.0", "--commit", "Acme/Web@")
    assert res.code == 2 and "invalid --commit 'Acme/Web@'" in res.err
    res = rt("releases", "set-commits", "1.0", "--auto", "--local")
    assert res.code == 2


def test_propose_version_under_releases(rt, tmp_path):
    stamp = tmp_path / "stamp"
    res = rt(
        "releases",
        "propose-version",
        "--stamp",
        str(stamp),
        "--json",
        GITHUB_SHA="0123456789abcdef0123456789abcdef01234567",
    )
    assert res.code == 0, res
    assert json.loads(res.out)["release"] == "0123456789abcdef0123456789abcdef01234567"
    assert stamp.read_text().strip() == "0123456789abcdef0123456789abcdef01234567"


class TestDeploys:
    def test_releases_deploys_new_with_duration(self, rt, recorder):
        recorder.respond({"path": "/deploys/", "status": 201, "body": {"id": "1"}})
        res = rt(
            "releases",
            "deploys",
            "1.0",
            "new",
            "-e",
            "production",
            "-n",
            "blue",
            "-u",
            "https://ci.example/1",
            "-t",
            "90",
        )
        assert res.code == 0, res
        assert res.out.strip() == "Created deploy blue of 1.0 to production"
        (req,) = recorder.requests()
        assert req["path"] == "/api/0/organizations/acme/releases/1.0/deploys/"
        body = req.json()
        assert (body["environment"], body["name"], body["url"]) == (
            "production",
            "blue",
            "https://ci.example/1",
        )
        took = _when(body["dateFinished"]) - _when(body["dateStarted"])
        assert took.total_seconds() == 90

    def test_deploys_new_with_times(self, rt, recorder):
        res = rt(
            "deploys",
            "new",
            "--release",
            "1.0",
            "-e",
            "staging",
            "--started",
            "1700000000",
            "--finished",
            "2023-11-14T22:15:00Z",
            "--json",
        )
        assert res.code == 0, res
        body = recorder.requests()[0].json()
        assert body == {
            "environment": "staging",
            "name": None,
            "url": None,
            "dateStarted": "2023-11-14T22:13:20Z",
            "dateFinished": "2023-11-14T22:15:00Z",
        }
        assert json.loads(res.out)["version"] == "1.0"

    @pytest.mark.parametrize(
        "args,msg",
        [
            (["-e", "prod", "-t", "5", "--started", "1700000000"], "either -t/--time or"),
            (
                ["-e", "prod", "--started", "1700000100", "--finished", "1700000000"],
                "--finished is before --started",
            ),
            (["-e", "prod", "--started", "yesterday"], "invalid time 'yesterday' for --started"),
            (["-e", "a/b"], "invalid environment 'a/b'"),
            (["-e", "prod", "-t", "-3"], "seconds must not be negative"),
        ],
    )
    def test_bad_deploy_input(self, rt, recorder, args, msg):
        res = rt("deploys", "new", "-r", "1.0", *args)
        assert res.code == 2, res
        assert msg in res.err
        assert recorder.requests() == []

    def test_list(self, rt, recorder):
        recorder.respond(
            {
                "body": [
                    {
                        "environment": "production",
                        "name": "blue",
                        "dateStarted": None,
                        "dateFinished": "2024-01-01T00:00:00Z",
                    }
                ]
            }
        )
        res = rt("releases", "deploys", "1.0", "list")
        assert res.code == 0, res
        assert "production   blue" in res.out
        res = rt("deploys", "list", "-r", "1.0", "--json")
        assert json.loads(res.out)[0]["name"] == "blue"


def test_debug_log_never_shows_the_token(rt, recorder):
    recorder.respond({"path": "/releases/", "status": 201, "body": RELEASE})
    res = rt("--log-level", "debug", "releases", "new", "1.0", "--auth-token", "sekrit-abc-999")
    assert res.code == 0, res
    assert "POST " + recorder.url in res.err  # debug lines are there
    assert "sekrit-abc-999" not in res.err + res.out
    assert recorder.requests()[0]["headers"]["authorization"] == "Bearer sekrit-abc-999"


def test_unknown_project_on_new_is_named(rt, recorder):
    recorder.respond({"status": 400, "body": {"projects": ["Invalid project ids or slugs"]}})
    res = rt("releases", "new", "1.0", "-p", "nope")
    assert res.code == 1
    assert res.err.strip() == (
        "error: unknown project 'nope' in organization 'acme', or the "
        "token may not use it (400; server said: projects: Invalid "
        "project ids or slugs)"
    )


def test_403_names_org_and_scopes(rt, recorder):
    recorder.respond({"status": 403, "body": {"detail": "You do not have permission"}})
    res = rt("releases", "delete", "1.0")
    assert res.code == 1
    assert "403 on DELETE /organizations/acme/releases/1.0/" in res.err
    assert "organization 'acme'" in res.err and "project:releases" in res.err


def test_netrc_does_not_replace_the_token(rt, recorder, home):
    (home / ".netrc").write_text("machine 127.0.0.1 login someone password netrc-pass\n")
    (home / ".netrc").chmod(0o600)
    recorder.respond({"body": []})
    res = rt("releases", "list")
    assert res.code == 0, res
    assert recorder.requests()[0]["headers"]["authorization"] == "Bearer test-token-1234"


def test_propose_version_uses_pull_request_head_sha(rt, tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"head": {"sha": "%s"}}}' % ("b" * 40))
    res = rt("releases", "propose-version", GITHUB_SHA="a" * 40, GITHUB_EVENT_PATH=str(event))
    assert res.code == 0, res
    assert res.out.strip() == "b" * 40
