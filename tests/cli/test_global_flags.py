"""Bad global flags and ``RELEASETAG_LOG_LEVEL``: the real CLI, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.recorder import ROOT


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    full.update(PYTHONPATH=ROOT + os.pathsep + os.path.join(ROOT, "src"), **env)
    return subprocess.run(
        [sys.executable, "-m", "releasetag", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "args, says",
    [
        (["--log-level", "foo", "propose-version"], "invalid log level 'foo'"),
        (["--log-level=", "releases", "list"], "invalid log level ''"),
        (["--log-level"], "expected one argument"),
        (["--org"], "expected one argument"),
        (["-p", "web", "--bogus", "releases", "list"], "unrecognized arguments: --bogus"),
        (["releases", "list", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--url", "\x1b[2Jx", "releases", "list", "--json"], "invalid server URL '\\x1b[2Jx'"),
        (["releases", "list", "--url", "ftp://h"], "invalid server URL 'ftp://h'"),
        (["--auth-token", "sntrys_x y", "releases", "list"], "a token cannot have"),
    ],
)
def test_a_bad_global_flag_is_one_line_and_exit_2(args, says):
    done = run(*args, SENTRY_AUTH_TOKEN="t", SENTRY_ORG="acme")
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr, done.stderr
    assert "\x1b" not in done.stderr and "sntrys_x" not in done.stderr


def test_a_bad_url_from_the_environment_is_a_configuration_error():
    done = run("releases", "list", SENTRY_AUTH_TOKEN="t", SENTRY_ORG="a", SENTRY_URL="x")
    assert done.returncode == 1 and done.stderr == (
        "error: invalid server URL 'x' from SENTRY_URL: it must start with http:// or https://\n"
    )


def test_log_level_any_case_turns_on_diagnostics(tmp_path):
    done = run("--log-level", "DEBUG", "propose-version", SENTRY_RELEASE="app@1")
    assert (done.returncode, done.stdout) == (0, "app@1\n"), done


def test_a_bad_log_level_in_the_environment_is_a_warning_and_the_command_runs():
    done = run("propose-version", SENTRY_RELEASE="app@1", RELEASETAG_LOG_LEVEL="loud")
    assert (done.returncode, done.stdout) == (0, "app@1\n"), done
    assert done.stderr == (
        "warning: RELEASETAG_LOG_LEVEL: invalid log level 'loud': use one of debug, info, "
        "warning, error, critical; ignored\n"
    )
    done = run("propose-version", SENTRY_RELEASE="app@1", RELEASETAG_LOG_LEVEL="Warning")
    assert (done.returncode, done.stdout, done.stderr) == (0, "app@1\n", "")
