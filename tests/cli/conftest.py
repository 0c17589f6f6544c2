"""CLI test fixtures: real git repositories and the CLI run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.cli.gitrepo import GitRepo, git_env
from tests.support.recorder import ROOT

SENTRY_CLI = str(Path(sys.executable).with_name("sentry-cli"))


class Result:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def make_repo(tmp_path, home):
    def make(name: str = "work", remote: Optional[str] = "git@github.com:Acme/Web.git"):
        return GitRepo.init(tmp_path / name, home, remote)

    return make


@pytest.fixture
def api_env(recorder, home) -> Dict[str, str]:
    """Environment pointing both CLIs at the recording server."""
    env = git_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the many CLI runs reuse compiled modules
    env.update(
        SENTRY_URL=recorder.url + "/",
        SENTRY_AUTH_TOKEN="test-token-1234",
        SENTRY_ORG="acme",
        SENTRY_PROJECT="web",
        RELEASETAG_HTTP_BACKOFF="0.01",
        SENTRY_DISABLE_UPDATE_CHECK="1",
        PYTHONPATH=ROOT + os.pathsep + os.path.join(ROOT, "src"),
    )
    return env


def _run(cmd: List[str], cwd, env: Dict[str, str], timeout: float = 60) -> Result:
    return Result(
        subprocess.run(
            cmd,
            cwd=str(cwd),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    )


@pytest.fixture
def rt(api_env, tmp_path):
    """Run ``python -m releasetag ARGS`` (cwd defaults to tmp_path)."""

    def run(*args: str, cwd=None, env: Optional[Dict[str, str]] = None, **extra) -> Result:
        e = dict(api_env if env is None else env)
        e.update(extra)
        return _run([sys.executable, "-m", "releasetag", *args], cwd or tmp_path, e)

    return run


@pytest.fixture
def sentry_cli(api_env, tmp_path):
    """Run the real sentry-cli binary from the sentry-cli wheel against the same server."""
    assert os.path.exists(SENTRY_CLI), f"sentry-cli not installed next to {sys.executable}"

    def run(*args: str, cwd=None, **extra) -> Result:
        e = dict(api_env)
        e.update(extra)
        return _run([SENTRY_CLI, *args], cwd or tmp_path, e)

    return run


@pytest.fixture
def collector(tmp_path):
    """A real ``releasetag serve`` process with its own data folder, stopped after the test."""
    from tests.support.collector import Collector

    c = Collector(str(tmp_path / "collector"))
    try:
        yield c
    finally:
        c.stop()
