"""``releasetag releases verify``: the running release against what the pipeline made, on the
collector, and on a server that lacks part of the Web API (unknown, not passed or failed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.gitrepo import git_env
from tests.support.collector import Collector

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _build(folder, names):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        with open(os.path.join(folder, name), "w") as fh:
            fh.write(f"function {name[:-3]}(a){{return a+1}}\n//# sourceMappingURL={name}.map\n")
        with open(os.path.join(folder, name + ".map"), "w") as fh:
            json.dump({"version": 3, "sources": ["a.ts"], "names": [], "mappings": "AAAA"}, fh)


@pytest.fixture
def served(tmp_path, home):
    collector = Collector(str(tmp_path / "collector"))
    env = git_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        SENTRY_URL=collector.url + "/",
        SENTRY_AUTH_TOKEN=collector.token,
        SENTRY_ORG=collector.org,
        SENTRY_PROJECT=collector.project,
    )
    for name in ("SENTRY_RELEASE", "RELEASETAG_RELEASE", "SENTRY_ENVIRONMENT"):
        env.pop(name, None)

    def run(*args, cwd, **extra):
        return subprocess.run(
            [sys.executable, "-m", "releasetag", *args],
            cwd=str(cwd),
            env=dict(env, **extra),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    try:
        yield collector, run
    finally:
        collector.stop()


def test_verify_names_each_unmet_requirement_until_the_pipeline_is_done(
    served, make_repo, tmp_path
):
    collector, run = served
    repo = make_repo(remote="git@github.com:Acme/Shop.git")
    repo.write("app.py", "1\n")
    repo.commit("first")
    dist = repo.path / "dist"
    _build(dist, ["main.js", "vendor.js"])
    done = run("releases", "verify", "shop@1", "-e", "production", cwd=repo.path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "exists: release shop@1 is not on the server" in done.stdout

    assert run("releases", "new", "shop@1", cwd=repo.path).returncode == 0
    assert run("sourcemaps", "inject", "dist", cwd=repo.path).returncode == 0
    up = run("sourcemaps", "upload", "-r", "shop@1", "dist", cwd=repo.path)
    assert up.returncode == 0, up.stderr
    done = run("releases", "verify", "shop@1", "-e", "production", cwd=repo.path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.splitlines()[1:] == [
        "finalized: the release is not finalized (run releases finalize)",
        "commits: the release has no commits (run releases set-commits)",
        "deploy: no deploy to production",
        "not verified",
    ]

    assert run("releases", "finalize", "shop@1", cwd=repo.path).returncode == 0
    assert run("releases", "set-commits", "shop@1", "--local", cwd=repo.path).returncode == 0
    assert (
        run("releases", "deploys", "shop@1", "new", "-e", "staging", cwd=repo.path).returncode == 0
    )
    done = run("releases", "verify", "-e", "production", cwd=repo.path, SENTRY_RELEASE="shop@1")
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        "Release shop@1 (from SENTRY_RELEASE), environment production:",
        "deploy: no deploy to production (deployed to: staging)",
        "not verified",
    ]
    assert (
        run("releases", "deploys", "shop@1", "new", "-e", "production", cwd=repo.path).returncode
        == 0
    )
    done = run(
        "releases", "verify", "shop@1", "--json", cwd=repo.path, SENTRY_ENVIRONMENT="production"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["verified"] and data["environment"] == "production"
    assert data["requirements"]["artifacts"] == {
        "state": "ok",
        "detail": "artifacts: all 2 local debug IDs uploaded",
    }

    # a build made after the upload: its debug IDs are on no artifact
    _build(tmp_path / "rebuilt", ["checkout.js"])
    assert run("sourcemaps", "inject", str(tmp_path / "rebuilt"), cwd=repo.path).returncode == 0
    done = run(
        "releases",
        "verify",
        "shop@1",
        "-e",
        "production",
        "--path",
        str(tmp_path / "rebuilt"),
        cwd=repo.path,
    )
    assert done.returncode == 3
    assert "artifacts: 1 of 1 local debug IDs match no artifact on the server" in done.stdout


def test_a_server_without_part_of_the_api_gives_unknown(rt, recorder, tmp_path):
    _build(tmp_path / "dist", ["main.js"])
    assert rt("sourcemaps", "inject", "dist", cwd=tmp_path).code == 0
    recorder.respond(
        {"path": "/deploys/", "status": 404, "body": {"detail": "Not found"}},
        {"path": "/artifact-lookup/", "status": 404, "body": {"detail": "Not found"}},
        {"path": "/files/", "status": 404, "body": {"detail": "Not found"}},
        {
            "path": "/releases/web%401/",
            "body": {"version": "web@1", "dateReleased": "2026-01-01T00:00:00Z", "commitCount": 3},
        },
    )
    res = rt("releases", "verify", "web@1", "-e", "production", cwd=tmp_path)
    assert res.code == 4, res
    assert res.out.splitlines()[1:] == [
        "artifacts: unknown (the server has no debug ID lookup API)",
        "deploy: unknown (the server has no deploys API)",
        "not verified: some requirements unknown",
    ]
    assert "test-token-1234" not in res.out + res.err
