"""The public API is typed: a type checker catches a misspelt or mistyped init() option."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from releasetag.options import Options
from releasetag.options_compat import NOT_HERE
from tests.support.recorder import ROOT

BAD = """
import releasetag

releasetag.init("https://k@h/1", relase="x")
releasetag.init("https://k@h/1", release="x", sample_rate="1")
releasetag.capture_mesage("typo")
"""

GOOD = """
import releasetag
from releasetag.transport.retry import RetryPolicy

client = releasetag.init(
    "https://k@h/1", release="x", sample_rate=0.5, spool_dir="/tmp/s",
    retry_policy=RetryPolicy(backoff_base=1.0), failed_request_status_codes=[range(500, 600)],
)
client.flush(1.0)
releasetag.capture_message("ok")
"""


def _mypy(tmp_path, name: str, code: str) -> subprocess.CompletedProcess:
    (tmp_path / name).write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--python-version", "3.10", name],
        cwd=tmp_path,  # no project config: mypy's defaults, as in a user's project
        env=dict(os.environ, MYPYPATH=os.path.join(ROOT, "src")),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_mypy_reports_a_misspelt_or_mistyped_init_option(tmp_path):
    out = _mypy(tmp_path, "bad.py", BAD)
    assert out.returncode == 1, out.stdout + out.stderr
    assert 'Unexpected keyword argument "relase" for "init"; did you mean "release"?' in out.stdout
    assert 'Argument "sample_rate" to "init" has incompatible type "str"' in out.stdout
    assert 'Module has no attribute "capture_mesage"' in out.stdout


def test_mypy_accepts_correct_use(tmp_path):
    out = _mypy(tmp_path, "good.py", GOOD)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_typed_init_names_every_option_and_nothing_else():
    tree = ast.parse(open(os.path.join(ROOT, "src", "releasetag", "api.py")).read())
    typed = [
        node
        for block in tree.body
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.FunctionDef) and node.name == "init"
    ]
    assert len(typed) == 1
    names = {a.arg for a in typed[0].args.args + typed[0].args.kwonlyargs}
    assert names == set(Options.__annotations__) | set(NOT_HERE)
