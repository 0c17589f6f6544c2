"""``set-commits`` as a new user runs it against the collector (``--auto`` from the second
release on), ``--path`` in a monorepo, several repositories on one release, and the bad input
(a path outside the repository or without commits, a remote URL matching two repositories)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item
from tests.cli.gitrepo import git_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def crt(collector, home):
    env = git_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        SENTRY_URL=collector.url + "/",
        SENTRY_AUTH_TOKEN=collector.token,
        SENTRY_ORG=collector.org,
        SENTRY_PROJECT=collector.project,
    )

    def run(*args, cwd):
        return subprocess.run(
            [sys.executable, "-m", "releasetag", *args],
            cwd=str(cwd),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    return run


def _commits(collector, version):
    org = collector.org
    return collector.api(
        "GET", f"/organizations/{org}/releases/{version.replace('@', '%40')}/commits/"
    )


def _crash(collector, release):
    dsn = Dsn.parse(collector.dsn)
    event = {
        "event_id": uuid.uuid4().hex,
        "release": release,
        "level": "error",
        "exception": {"values": [{"type": "LedgerError", "value": "unbalanced"}]},
    }
    status, body = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=Envelope({}, [Item.from_json("event", event)]).serialize(),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}, sentry_version=7"},
        token=None,
    )
    assert status == 200, body


def test_auto_against_the_collector_sends_local_commits_and_applies_fixes(
    collector, crt, make_repo
):
    repo = make_repo(remote="git@github.com:Acme/Shop.git")
    repo.write("app.py", "1\n")
    repo.commit("first")
    assert crt("releases", "new", "shop@1.0", cwd=repo.path).returncode == 0
    done = crt("releases", "set-commits", "shop@1.0", "--auto", cwd=repo.path)
    assert done.returncode == 0, done.stderr  # no repository yet: falls back to local
    _crash(collector, "shop@1.0")
    (issue,) = collector.api("GET", f"/organizations/{collector.org}/issues/?query=LedgerError")
    assert issue["status"] == "unresolved"
    repo.write("ledger.py", "balanced\n")
    fix = repo.commit(f"Balance the ledger\n\nFixes {issue['shortId']}")
    assert crt("releases", "new", "shop@1.1", cwd=repo.path).returncode == 0
    # the second release: the repository now exists on the collector, which cannot read it
    done = crt("releases", "set-commits", "shop@1.1", "--auto", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stderr.splitlines() if line.startswith("note:")][-1:]
    assert "Acme/Shop matches the remote, but it has no provider integration" in note
    (commit,) = _commits(collector, "shop@1.1")
    assert commit["id"] == fix and commit["message"].startswith("Balance the ledger")
    assert commit["author"]["name"] == "Ada Lovelace"
    assert commit["patch_set"] == [{"path": "ledger.py", "type": "A"}]
    (issue,) = collector.api("GET", f"/organizations/{collector.org}/issues/?query=LedgerError")
    assert issue["status"] == "resolved"


def test_path_limits_commits_in_a_monorepo_and_repositories_append(collector, crt, make_repo):
    mono = make_repo("mono", remote="git@github.com:Acme/Mono.git")
    mono.write("services/api/app.py", "1\n")
    api_commit = mono.commit("api work")
    mono.write("services/web/app.js", "1\n")
    mono.commit("web work")
    mono.write("services/api/db.py", "1\nx\n")
    mono.write("README.md", "both\n")
    both = mono.commit("api and docs")
    assert crt("releases", "new", "api@1", cwd=mono.path).returncode == 0
    done = crt(
        "releases",
        "set-commits",
        "api@1",
        "--local",
        "--path",
        "api",
        cwd=mono.path / "services",
    )
    assert done.returncode == 0, done.stderr
    assert "Set 2 commits of Acme/Mono touching services/api for release api@1" in done.stdout
    commits = _commits(collector, "api@1")
    assert [c["id"] for c in commits] == [both, api_commit]
    assert commits[0]["patch_set"] == [{"path": "services/api/db.py", "type": "A"}]

    lib = make_repo("lib", remote="git@github.com:Acme/Lib.git")
    lib.write("lib.py", "1\n")
    lib_commit = lib.commit("lib work")
    done = crt("releases", "set-commits", "api@1", "--local", cwd=lib.path)
    assert done.returncode == 0, done.stderr
    assert "(kept 2 of Acme/Mono)" in done.stdout
    by_repo = {c["id"]: c["repository"]["name"] for c in _commits(collector, "api@1")}
    assert by_repo == {both: "Acme/Mono", api_commit: "Acme/Mono", lib_commit: "Acme/Lib"}
    # running the first repository again replaces its own commits only
    done = crt(
        "releases", "set-commits", "api@1", "--local", "--path", "services/web", cwd=mono.path
    )
    assert done.returncode == 0, done.stderr
    names = sorted(c["repository"]["name"] for c in _commits(collector, "api@1"))
    assert names == ["Acme/Lib", "Acme/Mono"]


def test_bad_paths_are_one_line_errors(collector, crt, make_repo, tmp_path):
    repo = make_repo(remote="git@github.com:Acme/Shop.git")
    repo.write("app.py", "1\n")
    repo.commit("first")
    (repo.path / "untracked").mkdir()
    done = crt(
        "releases", "set-commits", "shop@1", "--local", "--path", str(tmp_path), cwd=repo.path
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: --path {str(tmp_path)!r} is outside the git repository at {repo.path}"
    )
    done = crt("releases", "set-commits", "shop@1", "--local", "--path", "untracked", cwd=repo.path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: --path 'untracked': no commit in the history touches untracked"
    )


def test_a_remote_matching_two_repositories_is_an_error(rt, recorder, make_repo):
    repo = make_repo(remote="git@github.com:Acme/Web.git")
    repo.write("a.txt", "1\n")
    repo.commit("one")
    twins = [
        {
            "id": str(i),
            "name": name,
            "url": "https://github.com/acme/web",
            "integrationId": "7",
            "provider": {"id": "integrations:github", "name": "GitHub"},
        }
        for i, name in ((1, "acme/web"), (2, "Acme/Web-mirror"))
    ]
    recorder.respond({"path": "/repos/", "body": twins})
    res = rt("releases", "set-commits", "1.0", "--auto", cwd=repo.path)
    assert res.code == 1, res
    assert res.err.strip() == (
        "error: the remote URL git@github.com:Acme/Web.git matches 2 repositories of the "
        "organization (acme/web, Acme/Web-mirror): name one with --commit REPO@SHA"
    )
    assert not [r for r in recorder.requests() if r["method"] == "PUT"]


def test_auto_run_per_repository_keeps_the_other_refs(rt, recorder, make_repo):
    repo = make_repo(remote="git@github.com:Acme/Web.git")
    repo.write("a.txt", "1\n")
    repo.commit("one")
    web = {
        "id": "1",
        "name": "Acme/Web",
        "url": "https://github.com/acme/web",
        "integrationId": "7",
        "provider": {"id": "integrations:github", "name": "GitHub"},
    }
    recorder.respond(
        {"path": "/repos/", "body": [web]},
        {
            "path": "/commits/",
            "body": [
                {"id": "a" * 40, "message": "api", "repository": {"name": "Acme/Api"}},
                {"id": "b" * 40, "message": "older", "repository": {"name": "Acme/Api"}},
                {"id": "c" * 40, "message": "web", "repository": {"name": "Acme/Web"}},
            ],
        },
    )
    res = rt("releases", "set-commits", "1.0", "--auto", cwd=repo.path)
    assert res.code == 0, res
    (put,) = [r for r in recorder.requests() if r["method"] == "PUT"]
    assert put.json() == {
        "refs": [
            {"repository": "Acme/Web", "commit": repo.head(), "previousCommit": None},
            {"repository": "Acme/Api", "commit": "a" * 40, "previousCommit": None},
        ]
    }
