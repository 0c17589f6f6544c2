"""sentry-cli's remaining pipeline commands (info, login, organizations/projects/repos/events
list, issues, releases list --raw, --quiet, --header, completions) and the new sentry CLI's
spellings: side by side with sentry-cli against the recording server, and against the
collector."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import SENTRY_CLI
from tests.support.collector import ROOT, Collector

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT_ANSWER = {
    "version": "0",
    "auth": {"scopes": ["project:read", "project:releases"]},
    "user": {"id": "1", "email": "ci@example.com", "name": "CI"},
}


def _release(version):
    return {
        "version": version, "shortVersion": version, "ref": None, "url": None,
        "dateCreated": "2026-01-01T00:00:00Z", "dateReleased": None, "newGroups": 0,
        "projects": [{"slug": "web", "name": "web"}, {"slug": "api", "name": "api"}],
        "commitCount": 0, "deployCount": 0, "lastEvent": None, "authors": [], "status": "open",
        "data": {}, "lastCommit": None, "lastDeploy": None,
    }  # fmt: skip


def _both(rt, sc, *args):
    return rt(*args), sc(*args)


@pytest.fixture
def sc(api_env, tmp_path):
    def run(*args):
        proc = subprocess.run(
            [SENTRY_CLI, *args], env=api_env, cwd=str(tmp_path), capture_output=True, text=True,
            timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        return proc

    return run


def test_releases_list_raw_and_issue_updates_match_sentry_cli(rt, sc, recorder):
    recorder.respond(
        {"path": "/releases/", "body": [_release("a@1"), _release("a@2")]},
        {"path": "/issues/", "method": "PUT", "body": {"status": "resolved"}},
    )
    for args in (("releases", "list", "--raw"), ("releases", "list", "--raw", "-D", ",")):
        ours, theirs = _both(rt, sc, *args)
        assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout), args
    ours = rt("releases", "list", "-P")
    assert ours.code == 0 and "web, api" in ours.out
    selections = (("-i", "5"), ("-s", "unresolved"), ("--all",))
    for action, selection in zip(("resolve", "mute", "unresolve"), selections):
        mine = rt("issues", action, *selection)
        n = len([r for r in recorder.requests() if r["method"] == "PUT"])
        theirs = sc("issues", action, *selection)
        puts = [r for r in recorder.requests() if r["method"] == "PUT"][n - 1 :]
        assert mine.code == theirs.returncode == 0, (mine, theirs.stderr)
        assert puts[0]["path"] == puts[1]["path"] == "/api/0/projects/acme/web/issues/"
        assert puts[0]["query"] == puts[1]["query"]
        assert puts[0].json() == puts[1].json()
        assert mine.out.splitlines()[-1] == theirs.stdout.splitlines()[-1]  # new status: ...
    ours, theirs = _both(rt, sc, "issues", "resolve")  # nothing selected: no request, exit 0
    assert ours.code == theirs.returncode == 0 and "No changes requested" in ours.out


def test_info_quiet_and_header_match_sentry_cli(rt, sc, recorder):
    recorder.respond({"path": "/api/0/", "body": ROOT_ANSWER})
    ours, theirs = _both(rt, sc, "info")
    assert ours.code == theirs.returncode == 0, (ours, theirs.stderr)
    assert ours.out.splitlines()[:6] == theirs.stdout.splitlines()[:6]
    assert "  Scopes:" in ours.out and "test-token-1234" not in ours.out + ours.err
    ours, theirs = _both(rt, sc, "info", "--quiet")
    assert (ours.code, ours.out, ours.err) == (0, "", "") and theirs.returncode == 0
    ours = rt("--silent", "releases", "new", "")  # a usage error: silent, exit code kept
    assert (ours.code, ours.out, ours.err) == (2, "", "")
    rt("releases", "list", "--header", "X-Pipeline: blue", "--raw")
    (last,) = [r for r in recorder.requests() if r["path"].endswith("/releases/")][-1:]
    assert last["headers"].get("x-pipeline") == "blue"
    recorder.respond({"path": "/api/0/", "status": 401, "body": {"detail": "Invalid token"}})
    recorder.reset()
    recorder.respond({"path": "/api/0/", "status": 401, "body": {"detail": "Invalid token"}})
    ours, theirs = _both(rt, sc, "info")
    assert ours.code == theirs.returncode == 1
    assert "not accepted by the server" in ours.out and "test-token-1234" not in ours.out


def test_commands_against_the_collector(tmp_path, home):
    collector = Collector(str(tmp_path / "collector"))
    try:
        env = dict(collector.env(), HOME=str(home), SENTRY_DSN=collector.dsn)
        env["PYTHONPATH"] = os.path.join(ROOT, "src")

        def run(*args, **extra):
            return subprocess.run(
                [sys.executable, "-m", "releasetag", *args], env=dict(env, **extra),
                cwd=str(tmp_path), capture_output=True, text=True, timeout=60,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip

        info = run("info")
        assert info.returncode == 0, info.stdout + info.stderr
        assert "Method: Auth Token" in info.stdout and collector.token not in info.stdout
        assert collector.project in run("projects", "list").stdout
        assert collector.org in run("organizations", "list").stdout
        assert run("repos", "list").returncode == 0
        assert run("release", "new", "web@1.0.0").returncode == 0  # the sentry CLI's spelling
        done = run("release", "deploy", "production", "blue", "-r", "web@1.0.0")
        assert done.returncode == 0, done.stderr
        deploys = collector.api(
            "GET", f"/organizations/{collector.org}/releases/web@1.0.0/deploys/"
        )
        assert [(d["environment"], d["name"]) for d in deploys] == [("production", "blue")]
        assert run("releases", "list", "--raw").stdout == "web@1.0.0\n"
        run("send-event", "-m", "checkout failed", "-r", "web@1.0.0")
        listed = run("issues", "list")
        assert listed.returncode == 0 and "checkout failed" in listed.stdout
        short = listed.stdout.splitlines()[2].split()[0]
        assert run("issues", "resolve", "-i", short).returncode == 0
        assert collector.api("GET", f"/issues/{short}/")["status"] == "resolved"
        assert "checkout failed" in run("events", "list").stdout
        # login writes the token where the configuration reads it; no token in the output
        done = run("login", "--auth-token", collector.token, SENTRY_AUTH_TOKEN="")
        assert done.returncode == 0, done.stderr
        rc = (home / ".sentryclirc").read_text()
        assert collector.token in rc and oct((home / ".sentryclirc").stat().st_mode)[-3:] == "600"
        assert collector.token not in done.stdout + done.stderr
        assert run("info", SENTRY_AUTH_TOKEN="").returncode == 0
        bad = run("login", "--auth-token", "not-the-token", SENTRY_AUTH_TOKEN="")
        assert bad.returncode == 1 and "does not accept that token" in bad.stderr
    finally:
        collector.stop()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completions(rt, shell):
    res = rt("completions", shell)
    assert res.code == 0 and "releases" in res.out and "set-commits" in res.out
    if shell == "bash":
        check = subprocess.run(["bash", "-n"], input=res.out, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr
