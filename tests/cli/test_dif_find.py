"""``debug-files find`` side by side with sentry-cli on the same folder of debug files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.cli.conftest import SENTRY_CLI

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts", "fixtures")
MACHO_ID = "4c4c4473-5555-3144-a15c-021b10bcc901"


@pytest.mark.parametrize(
    "args",
    [
        [MACHO_ID],
        [MACHO_ID.replace("-", "").upper(), "--json"],
        [MACHO_ID, "00000000-0000-0000-0000-000000000001"],
        ["not-an-id"],
    ],
)
def test_find_matches_sentry_cli(rt, api_env, tmp_path, args):
    folder = tmp_path / "syms"
    folder.mkdir()
    for name in ("mac_arm64.dylib", "sample.sym", "win.pdb"):
        shutil.copy(os.path.join(FIXTURES, name), folder / name)
    ours = rt("debug-files", "find", *args, "--no-well-known", cwd=folder)
    theirs = subprocess.run(
        [SENTRY_CLI, "debug-files", "find", *args, "--no-well-known"],
        cwd=str(folder),
        env=api_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ours.code == theirs.returncode, (ours, theirs.stderr)
    if "--json" in args:
        assert json.loads(ours.out) == json.loads(theirs.stdout)
    elif ours.code != 2:
        assert ours.out == theirs.stdout

        def missing(text):
            return [line.split()[0] for line in text.splitlines() if line.startswith("  ")]

        assert missing(ours.err) == missing(theirs.stderr)

