"""sentry-cli (the real binary from the PyPI wheel, unmodified) against ``releasetag serve``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.tools("sentry-cli")

SENTRY_CLI = shutil.which("sentry-cli", path=os.path.dirname(sys.executable)) or shutil.which(
    "sentry-cli"
)


def cli(collector, *args, cwd=None, check=True):
    assert SENTRY_CLI, "sentry-cli is not installed (it is in the test extra)"
    proc = subprocess.run(
        [SENTRY_CLI, *args],
        env=collector.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr, collector.stderr())
    return proc


def git(repo, *args):
    subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=30,
        env=dict(
            os.environ,
            GIT_AUTHOR_NAME="Ada Lovelace",
            GIT_AUTHOR_EMAIL="ada@example.com",
            GIT_COMMITTER_NAME="Ada Lovelace",
            GIT_COMMITTER_EMAIL="ada@example.com",
        ),
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=30
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "remote", "add", "origin", "https://github.com/acme/web.git")
    (path / "app.py").write_text("print('v1')\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "Initial version")
    return path


def test_releases_new_finalize_list_and_deploys(collector):
    assert "Created release shop@1.0" in cli(collector, "releases", "new", "shop@1.0").stdout
    cli(collector, "releases", "new", "shop@1.0")  # idempotent
    cli(collector, "releases", "finalize", "shop@1.0")
    release = collector.api("GET", "/organizations/local/releases/shop@1.0/")
    assert release["dateReleased"] and release["projects"][0]["slug"] == "local"
    assert "shop@1.0" in cli(collector, "releases", "list").stdout

    cli(collector, "deploys", "new", "-r", "shop@1.0", "-e", "production", "-n", "blue")
    cli(collector, "releases", "deploys", "shop@1.0", "new", "-e", "staging")
    deploys = collector.api("GET", "/organizations/local/releases/shop@1.0/deploys/")
    assert [(d["environment"], d["name"]) for d in deploys] == [
        ("staging", None),
        ("production", "blue"),
    ]
    cli(collector, "releases", "archive", "shop@1.0")
    assert collector.api("GET", "/organizations/local/releases/shop@1.0/")["status"] == "archived"
    cli(collector, "releases", "restore", "shop@1.0")
    assert collector.api("GET", "/organizations/local/releases/shop@1.0/")["status"] == "open"
    cli(collector, "releases", "delete", "shop@1.0")
    status, _ = collector.request("GET", "/api/0/organizations/local/releases/shop@1.0/")
    assert status == 404


def test_set_commits_local_and_commit(collector, repo):
    collector.api(
        "POST",
        "/organizations/local/repos/",
        {"name": "acme/web", "url": "https://github.com/acme/web"},
        expect=201,
    )
    cli(collector, "releases", "new", "web@1")
    cli(collector, "releases", "set-commits", "web@1", "--local", cwd=repo)
    commits = collector.api("GET", "/organizations/local/releases/web@1/commits/")
    assert [c["message"].strip() for c in commits] == ["Initial version"]
    assert commits[0]["author"] == {"name": "Ada Lovelace", "email": "ada@example.com"}
    assert commits[0]["patch_set"] == [{"path": "app.py", "type": "A"}]

    (repo / "app.py").write_text("print('v2')\n")
    (repo / "util.py").write_text("X = 1\n")
    git(repo, "add", ".")
    head = git(repo, "commit", "-qm", "Add util, change app")
    cli(collector, "releases", "new", "web@2")
    cli(collector, "releases", "set-commits", "web@2", "--local", cwd=repo)
    commits = collector.api("GET", "/organizations/local/releases/web@2/commits/")
    # only the commit since web@1 (found through previous-with-commits)
    assert [c["id"] for c in commits] == [head]
    assert sorted((f["path"], f["type"]) for f in commits[0]["patch_set"]) == [
        ("app.py", "M"),
        ("util.py", "A"),
    ]

    cli(collector, "releases", "new", "web@3")
    cli(collector, "releases", "set-commits", "web@3", "--commit", f"acme/web@{head}", cwd=repo)
    commits = collector.api("GET", "/organizations/local/releases/web@3/commits/")
    assert [(c["id"], c["repository"]["name"]) for c in commits] == [(head, "acme/web")]
    repos = collector.api("GET", "/organizations/local/repos/")
    assert "acme/web" in [r["name"] for r in repos]


def test_sourcemaps_upload_stores_files_with_debug_ids(collector, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app.min.js").write_text(
        "function add(a,b){return a+b}\n//# sourceMappingURL=app.min.js.map\n"
    )
    (dist / "app.min.js.map").write_text(
        '{"version":3,"file":"app.min.js","sources":["app.js"],"names":["add","a","b"],'
        '"sourcesContent":["function add(a, b) {\\n  return a + b;\\n}\\n"],'
        '"mappings":"AAAA,SAASA,IAAIC,EAAGC"}'
    )
    cli(collector, "releases", "new", "front@1")
    cli(collector, "sourcemaps", "inject", str(dist))
    out = cli(collector, "sourcemaps", "upload", "--release", "front@1", str(dist)).stdout
    assert "Uploaded files to Sentry" in out
    files = collector.api("GET", "/organizations/local/releases/front@1/files/")
    by_name = {f["name"]: f for f in files}
    assert set(by_name) == {"~/app.min.js", "~/app.min.js.map"}
    assert by_name["~/app.min.js"]["type"] == "minified_source"
    assert by_name["~/app.min.js.map"]["type"] == "source_map"
    debug_id = by_name["~/app.min.js"]["debugId"]
    assert debug_id and debug_id == by_name["~/app.min.js.map"]["debugId"]
    assert f"//# debugId={debug_id}" in (dist / "app.min.js").read_text()
    bundles = collector.api("GET", "/organizations/local/releases/front@1/bundles/")
    assert len(bundles) == 1 and bundles[0]["fileCount"] == 2
    # uploading the same files again is a no-op on the server side
    cli(collector, "sourcemaps", "upload", "--release", "front@1", str(dist))
    assert len(collector.api("GET", "/organizations/local/releases/front@1/bundles/")) == 1


def _debug_id_from_build_id(build_id: str) -> str:
    raw = bytes.fromhex(build_id)[:16].ljust(16, b"\0")
    swapped = raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]
    h = swapped.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def test_debug_files_upload_of_a_gcc_built_elf(collector, tmp_path):
    src = tmp_path / "hello.c"
    src.write_text("int main(void) { return 0; }\n")
    binary = tmp_path / "hello"
    build_id = "0123456789abcdef0123456789abcdef01234567"
    subprocess.run(
        ["gcc", "-g", f"-Wl,--build-id=0x{build_id}", "-o", str(binary), str(src)],
        check=True,
        timeout=60,
    )
    out = cli(collector, "debug-files", "upload", str(binary)).stdout
    assert "Uploaded 1 missing debug information file" in out
    difs = collector.api("GET", "/projects/local/local/files/dsyms/")
    assert [(d["objectName"], d["debugId"]) for d in difs] == [
        ("hello", _debug_id_from_build_id(build_id))
    ]
    assert difs[0]["size"] == binary.stat().st_size
    # a second upload finds it already there
    cli(collector, "debug-files", "upload", str(binary))
    assert len(collector.api("GET", "/projects/local/local/files/dsyms/")) == 1


def test_wrong_token_and_unknown_org_fail_with_clear_errors(collector):
    env_token = dict(collector.env(), SENTRY_AUTH_TOKEN="wrong-token")
    proc = subprocess.run(
        [SENTRY_CLI, "releases", "new", "x@1"],
        env=env_token,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "invalid API token" in proc.stderr
    proc = subprocess.run(
        [SENTRY_CLI, "releases", "new", "x@1"],
        env=dict(collector.env(), SENTRY_ORG="nope"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "organization not found" in proc.stderr


def test_sentry_cli_send_event_is_stored(collector):
    env = dict(collector.env(), SENTRY_DSN=collector.dsn)
    proc = subprocess.run(
        [
            SENTRY_CLI,
            "send-event",
            "-m",
            "from sentry-cli",
            "-r",
            "cli@1",
            "-E",
            "prod",
            "-t",
            "team:web",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    event_id = proc.stdout.split("Event id:")[1].strip().replace("-", "")
    event = collector.event(event_id)
    assert (event["message"], event["release"], event["environment"]) == (
        "from sentry-cli",
        "cli@1",
        "prod",
    )
    assert {"key": "team", "value": "web"} in event["tags"]


def test_sentry_cli_info_organizations_and_projects(collector):
    assert "Default Organization: local" in cli(collector, "info").stdout
    assert "| local" in cli(collector, "organizations", "list").stdout
    assert "| local" in cli(collector, "projects", "list").stdout
