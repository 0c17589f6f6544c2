"""The release workflow against the local collector (``releasetag serve``), end to end: the CLI
as a subprocess on a real git repository, the collector's own read API as the witness."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.cli.gitrepo import git_env

pytestmark = pytest.mark.slow


def test_release_workflow(collector, make_repo, home):
    env = git_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        RELEASETAG_URL=collector.url,
        RELEASETAG_AUTH_TOKEN=collector.token,
        RELEASETAG_ORG=collector.org,
        RELEASETAG_PROJECT=collector.project,
    )

    def rt(*args, cwd):
        res = subprocess.run(
            [sys.executable, "-m", "releasetag", *args],
            cwd=str(cwd),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        return res

    repo = make_repo(remote="git@github.com:Acme/Shop.git")
    repo.write("app.py", "print(1)\n")
    first = repo.commit("first")
    repo.write("app.py", "print(2)\n")
    second = repo.commit("second")
    v1 = "shop@1.0+build 7"
    rt("releases", "new", v1, cwd=repo.path)
    rt("releases", "set-commits", v1, "--local", cwd=repo.path)
    rt("releases", "finalize", v1, cwd=repo.path)
    rt("releases", "deploys", v1, "new", "-e", "production", "-n", "blue", "-t", "5", cwd=repo.path)
    q1 = quote(v1, safe="")
    org = collector.org
    release = collector.api("GET", f"/organizations/{org}/releases/{q1}/")
    assert release["version"] == v1 and release["dateReleased"]
    commits = collector.api("GET", f"/organizations/{org}/releases/{q1}/commits/")
    assert sorted(c["id"] for c in commits) == sorted([first, second])
    deploys = collector.api("GET", f"/organizations/{org}/releases/{q1}/deploys/")
    assert [(d["environment"], d["name"]) for d in deploys] == [("production", "blue")]

    # the next release gets only the commits since the previous one (previous-with-commits)
    repo.write("app.py", "print(3)\n")
    third = repo.commit("third")
    rt("releases", "new", "shop@1.1", "--finalize", cwd=repo.path)
    rt("releases", "set-commits", "shop@1.1", "--local", cwd=repo.path)
    commits = collector.api("GET", f"/organizations/{org}/releases/shop%401.1/commits/")
    assert [c["id"] for c in commits] == [third]
    listed = rt("releases", "list", "--json", cwd=repo.path).stdout
    assert v1 in listed and "shop@1.1" in listed
