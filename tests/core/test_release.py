"""Release and environment detection: precedence, release file, CI variables, git HEAD."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import releasetag
from releasetag.detect import git as detect_git
from releasetag.detect import release as detection
from releasetag.protocol import release as rel

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="the git binary builds the fixture repos")


def git(cwd, *args):
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="T",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="T",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    return subprocess.run(
        [GIT, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path, commits=2):
    os.makedirs(path, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "protocol.file.allow", "always")
    for i in range(commits):
        with open(os.path.join(path, f"f{i}.txt"), "w") as fh:
            fh.write(str(i))
        git(path, "add", ".")
        git(path, "commit", "-q", "-m", f"c{i}")
    return git(path, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    "name,problem",
    [
        ("", "empty"),
        (".", "'.'"),
        ("..", "'.'"),
        (" a", "whitespace"),
        ("a ", "whitespace"),
        ("a/b", "'/'"),
        ("a\nb", "newline"),
        ("a\tb", "tab"),
        ("a\x0bb", "vertical tab"),
        ("a\x0cb", "form feed"),
        ("x" * 201, "200"),
        ("a\\b", "backslash"),
        ("latest", "reserved"),
        ("LaTeSt", "reserved"),
    ],
)
def test_invalid_release_names_say_which_rule(name, problem):
    assert problem in rel.release_name_error(name)
    with pytest.raises(ValueError, match="invalid release"):
        rel.validate_release(name)


@pytest.mark.parametrize("name", ["a\\b", "latest", "LATEST", "a/b", ".."])
def test_refused_names_are_refused_by_relay_too(name):
    from sentry_relay import parse_release

    assert rel.release_name_error(name)
    with pytest.raises(Exception, match="invalid release"):
        parse_release(name)


@pytest.mark.parametrize(
    "dist,problem",
    [("", "empty"), (" 7", "whitespace"), ("7\n", "whitespace"), ("a\tb", "control"),
     ("x" * 65, "at most 64")],
)  # fmt: skip
def test_invalid_dists_say_which_rule(dist, problem):
    assert problem in rel.dist_error(dist)


def test_valid_dists():
    for dist in ("7", "build-2024.05.01", "x" * 64, "ios arm64"):
        assert rel.dist_error(dist) is None


def test_init_refuses_a_bad_dist_and_drops_one_from_the_environment(monkeypatch):
    from releasetag.options import resolve_options

    with pytest.raises(ValueError, match="invalid dist"):
        resolve_options(dsn=None, dist="x" * 65)
    monkeypatch.setenv("SENTRY_DIST", " 7 ")
    assert resolve_options(dsn=None).dist is None
    monkeypatch.setenv("SENTRY_DIST", "7")
    assert resolve_options(dsn=None).dist == "7"


def test_valid_names_agree_with_relay():
    from sentry_relay import parse_release

    for name in ("myapp@1.4.2+build7", "1.0", "a" * 200, "v2 beta"):
        assert rel.release_name_error(name) is None
        parse_release(name)  # relay accepts it too


CONTROLS = sorted(rel.CONTROL_CHARACTERS)


@pytest.mark.parametrize(
    "char", ["\x1b", "\x07", "\x00", "\x08", "\x7f", "\x85", "\x9b", "\u202e", "\u2066",
             "\u200f", "\u2028"],
)  # fmt: skip
def test_control_characters_are_refused_in_release_names_and_dists(char):
    name = f"app@1{char}.0"
    assert "control characters" in rel.release_name_error(name)
    assert f"U+{ord(char):04X}" in rel.release_name_error(name)
    assert "control characters" in rel.dist_error(f"7{char}7")
    with pytest.raises(ValueError, match="invalid release"):
        releasetag.init(dsn=None, release=name)  # the SDK applies the same rule


def test_the_length_limit_counts_utf8_bytes_as_sentry_does():
    from sentry_relay import parse_release

    assert rel.release_name_error("\u00e9" * 100) is None
    parse_release("\u00e9" * 100)
    assert "200 bytes" in rel.release_name_error("\u00e9" * 101)
    with pytest.raises(Exception, match="too long"):
        parse_release("\u00e9" * 101)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120) | st.text(alphabet="ab@.-" + "".join(CONTROLS), max_size=20))
def test_any_name_we_accept_relay_accepts_and_holds_no_control(name):
    from sentry_relay import parse_release

    if rel.release_name_error(name) is None:
        parse_release(name)  # raises when relay refuses it
        assert not any(ch in rel.CONTROL_CHARACTERS for ch in name)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.sampled_from(CONTROLS), st.text(max_size=20))
def test_a_control_character_anywhere_is_refused(head, char, tail):
    assert rel.release_name_error(f"a{head}{char}{tail}b") is not None
    assert rel.dist_error(f"a{head}{char}{tail}b") is not None


def test_precedence_argument_env_file_ci(tmp_path):
    env = {"RELEASETAG_RELEASE": "rt@1", "SENTRY_RELEASE": "s@1", "GITHUB_SHA": "a" * 40}
    (tmp_path / detection.RELEASE_FILE_NAME).write_text("file@1\n")
    assert detection.detect_release_source("arg@1", env=env, cwd=str(tmp_path)).release == "arg@1"
    assert (
        detection.detect_release_source(None, env=env, cwd=str(tmp_path)).source
        == "RELEASETAG_RELEASE"
    )
    del env["RELEASETAG_RELEASE"]
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "s@1"
    del env["SENTRY_RELEASE"]
    found = detection.detect_release_source(None, env=env, cwd=str(tmp_path))
    assert found.release == "file@1" and found.source.startswith("release file")
    (tmp_path / detection.RELEASE_FILE_NAME).unlink()
    found = detection.detect_release_source(None, env=env, cwd=str(tmp_path), use_git=False)
    assert (found.release, found.source) == ("a" * 40, "GITHUB_SHA")


def test_opentelemetry_resource_attributes(tmp_path):
    attrs = "deployment.environment.name=stag%20ing,service.version=2.1.0 ,team=core"
    env = {"OTEL_RESOURCE_ATTRIBUTES": attrs, "GITHUB_SHA": "a" * 40}
    found = detection.detect_release_source(None, env=env, cwd=str(tmp_path), use_git=False)
    assert (found.release, found.source) == ("2.1.0", "OTEL_RESOURCE_ATTRIBUTES service.version")
    env["OTEL_SERVICE_NAME"] = "checkout"
    assert (
        detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release
        == "checkout@2.1.0"
    )
    env["OTEL_RESOURCE_ATTRIBUTES"] = "service.name=cart,service.version=3"
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "checkout@3"
    del env["OTEL_SERVICE_NAME"]
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "cart@3"
    # after the explicit and the RELEASETAG / SENTRY variables, before the release file
    env["SENTRY_RELEASE"] = "s@1"
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "s@1"
    del env["SENTRY_RELEASE"]
    (tmp_path / detection.RELEASE_FILE_NAME).write_text("file@1\n")
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "cart@3"
    # no version, a malformed list or a bad name: the next source answers
    for attrs in ("service.name=cart", "garbage,,=x,service.version", "service.version=a/b"):
        env["OTEL_RESOURCE_ATTRIBUTES"] = attrs
        assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "file@1"


def test_opentelemetry_environment():
    env = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=old,deployment.environment.name=new"}
    assert detection.detect_environment(None, env) == "new"
    assert (
        detection.detect_environment(
            None, {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=old"}
        )
        == "old"
    )
    assert detection.detect_environment(None, {**env, "SENTRY_ENVIRONMENT": "s"}) == "s"
    assert detection.detect_environment("arg", env) == "arg"
    assert detection.detect_environment(None, {"OTEL_RESOURCE_ATTRIBUTES": "x=1"}) == "production"


def test_sdk_and_cli_read_opentelemetry_alike(tmp_path):
    """The runtime's init() and ``propose-version`` name the same release and environment."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_", "OTEL_"))
    }
    env.update(
        OTEL_SERVICE_NAME="shop",
        OTEL_RESOURCE_ATTRIBUTES="service.version=4.2,deployment.environment.name=canary",
    )
    script = (
        "import releasetag, json; c = releasetag.Client(dsn='http://k@127.0.0.1:9/1'); "
        "print(json.dumps([c.options.release, c.options.environment])); c.close(0)"
    )
    sdk = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert json.loads(sdk.stdout) == ["shop@4.2", "canary"], sdk.stderr
    cli = subprocess.run([sys.executable, "-m", "releasetag", "propose-version", "--json"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    found = json.loads(cli.stdout)
    assert (found["release"], found["source"]) == (
        "shop@4.2",
        "OTEL_RESOURCE_ATTRIBUTES service.version",
    )


def test_release_file_env_var_and_json_form(tmp_path):
    stamp = tmp_path / "stamp.json"
    stamp.write_text(json.dumps({"release": "json@2"}))
    env = {detection.RELEASE_FILE_ENV: str(stamp)}
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "json@2"


def test_invalid_detected_release_is_skipped(tmp_path):
    env = {"SENTRY_RELEASE": "bad/name", "CIRCLE_SHA1": "b" * 40}
    found = detection.detect_release_source(None, env=env, cwd=str(tmp_path), use_git=False)
    assert found.release == "b" * 40


def test_github_pull_request_head_sha(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "c" * 40}}}))
    env = {"GITHUB_SHA": "d" * 40, "GITHUB_EVENT_PATH": str(event)}
    assert detection.detect_release_source(None, env=env, cwd=str(tmp_path)).release == "c" * 40


def test_environment_precedence():
    assert detection.detect_environment("stage", {"RELEASETAG_ENVIRONMENT": "x"}) == "stage"
    assert (
        detection.detect_environment(
            None, {"RELEASETAG_ENVIRONMENT": "x", "SENTRY_ENVIRONMENT": "y"}
        )
        == "x"
    )
    assert detection.detect_environment(None, {"SENTRY_ENVIRONMENT": "y"}) == "y"
    assert detection.detect_environment(None, {}) == "production"


@needs_git
def test_git_head_loose_packed_and_detached(tmp_path):
    head = make_repo(tmp_path / "r")
    assert detect_git.git_head_sha(str(tmp_path / "r")) == head
    git(tmp_path / "r", "pack-refs", "--all")
    assert not (tmp_path / "r/.git/refs/heads/main").exists()
    assert detect_git.git_head_sha(str(tmp_path / "r")) == head
    first = git(tmp_path / "r", "rev-parse", "HEAD~1")
    git(tmp_path / "r", "checkout", "-q", "--detach", first)
    sub = tmp_path / "r" / "deeper"
    sub.mkdir()
    assert detect_git.git_head_sha(str(sub)) == first


@needs_git
def test_git_head_in_worktree_and_submodule(tmp_path):
    head = make_repo(tmp_path / "main")
    git(tmp_path / "main", "pack-refs", "--all")
    git(tmp_path / "main", "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"))
    assert detect_git.git_head_sha(str(tmp_path / "wt")) == head
    sub_head = make_repo(tmp_path / "lib", commits=1)
    git(
        tmp_path / "main",
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(tmp_path / "lib"),
        "lib",
    )
    assert detect_git.git_head_sha(str(tmp_path / "main" / "lib")) == sub_head


def test_no_repository_gives_none(tmp_path):
    assert detect_git.git_head_sha(str(tmp_path)) is None


@needs_git
def test_detection_without_git_binary_and_lazy_import(tmp_path):
    """With git absent from PATH, a subprocess detects HEAD; env vars never import GitPython."""
    head = make_repo(tmp_path / "r")
    script = (
        "import sys, releasetag\n"
        "assert 'git' not in sys.modules\n"
        "import os; os.environ['SENTRY_RELEASE']='env@1'\n"
        "assert releasetag.detect_release() == 'env@1' and 'git' not in sys.modules\n"
        "del os.environ['SENTRY_RELEASE']\n"
        "print(releasetag.detect_release())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    env["PATH"] = str(tmp_path / "empty-bin")
    env.pop("GIT_PYTHON_REFRESH", None)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path / "r",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == head
    assert out.stderr == ""


def test_public_functions_exported():
    assert releasetag.detect_release("x@1") == "x@1"
    assert releasetag.detect_environment() == "production"


def test_write_release_file_round_trip(tmp_path):
    path = tmp_path / "stamp"
    detection.write_release_file(str(path), "app@3")
    assert detection.read_release_file(str(path)) == "app@3"
    with pytest.raises(ValueError):
        detection.write_release_file(str(path), "bad/name")
    assert detection.read_release_file(str(path)) == "app@3"
