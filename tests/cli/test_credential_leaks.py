"""Credentials stay where they belong: a ``user:password@`` in SENTRY_URL is never printed
(errors, ``--log-level debug``) nor sent, and the git processes the CLI starts do not get
the auth token or other secrets in their environment."""

from __future__ import annotations

import os
import socket
import stat

import pytest

COMMANDS = [("releases", "new", "1.0"), ("releases", "list"), ("deploys", "list", "-r", "1.0")]


def _free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("status", [401, 404, 500])
def test_url_credentials_are_not_printed_for_a_failing_server(rt, recorder, command, status):
    recorder.respond({"status": status, "body": "<html><title>oops</title></html>"})
    url = recorder.url.replace("http://", "http://user:s3cret-pw@") + "/"
    res = rt("--log-level", "debug", *command, SENTRY_URL=url, RELEASETAG_HTTP_RETRIES="0")
    assert res.code == 1, res
    assert "s3cret" not in res.err + res.out and "user:" not in res.err + res.out
    assert "Traceback" not in res.err
    (req,) = recorder.requests()
    assert "s3cret" not in repr(req["headers"])  # not sent either (no Basic auth, Host clean)


def test_url_credentials_are_not_printed_when_the_server_is_down(rt):
    url = f"http://user:s3cret-pw@127.0.0.1:{_free_port()}/"
    res = rt("--log-level", "debug", "releases", "new", "1.0", SENTRY_URL=url,
             RELEASETAG_HTTP_RETRIES="0")  # fmt: skip
    assert res.code == 1 and "cannot connect to http://***@127.0.0.1" in res.err, res
    assert "s3cret" not in res.err + res.out


def test_git_children_get_no_token_or_secrets(rt, recorder, make_repo, tmp_path):
    repo = make_repo()
    repo.write("a.txt", "one")
    repo.commit("first")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "git-env.txt"
    real_git = next(
        os.path.join(d, "git")
        for d in os.environ["PATH"].split(os.pathsep)
        if os.access(os.path.join(d, "git"), os.X_OK)
    )
    wrapper = bin_dir / "git"
    wrapper.write_text(
        f'#!/bin/sh\nenv >> "{record}"\necho ---- >> "{record}"\nexec {real_git} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    recorder.respond({"path": "/previous-with-commits/", "body": {}})
    res = rt(
        "releases", "set-commits", "1.0", "--local", cwd=repo.path,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        GITHUB_TOKEN="ghp-secret-value", DB_PASSWORD="pw-secret-value",
        GIT_TERMINAL_PROMPT="0",
    )  # fmt: skip
    assert res.code == 0, res
    seen = record.read_text()
    assert seen.count("----") >= 2  # git ran (version check, log) through the wrapper
    assert "test-token-1234" not in seen and "SENTRY_AUTH_TOKEN" not in seen
    assert "ghp-secret-value" not in seen and "pw-secret-value" not in seen
    assert "GIT_TERMINAL_PROMPT=0" in seen and "PATH=" in seen  # git's own settings stay
    commits = recorder.requests("/releases/")[-1].json()
    assert commits.get("commits") or commits.get("refs") or commits  # the commits went up
