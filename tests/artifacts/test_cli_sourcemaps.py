"""The ``sourcemaps inject`` command line: output, exit codes, --json, --dry-run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from releasetag.cli.main import main


def _site(tmp_path):
    (tmp_path / "a.js").write_text("var a=1;\n//# sourceMappingURL=a.js.map\n")
    (tmp_path / "a.js.map").write_text(
        '{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA"}'
    )
    (tmp_path / "b.mjs").write_text("export const b = 2;\n")
    (tmp_path / "skip.txt").write_text("not js")


def test_inject_json_and_rerun(tmp_path, capsys):
    _site(tmp_path)
    assert main(["sourcemaps", "inject", "--json", str(tmp_path)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [f["action"] for f in first["files"]] == ["injected", "injected"]
    assert first["files"][0]["sourcemap"].endswith("a.js.map")
    assert first["files"][1]["sourcemap"] is None
    assert main(["sourcemaps", "inject", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "already injected" in out and "> injected 0 file(s), 2 already done" in out


def test_inject_dry_run_changes_nothing(tmp_path, capsys):
    _site(tmp_path)
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    assert main(["sourcemaps", "inject", "--dry-run", str(tmp_path)]) == 0
    assert "would inject 2 file(s)" in capsys.readouterr().out
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_inject_bad_input_is_one_line_and_exit_1(tmp_path):
    _site(tmp_path)
    (tmp_path / "bad.js").write_text("x\n//# sourceMappingURL=bad.js.map\n")
    (tmp_path / "bad.js.map").write_text("{")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasetag",
            "sourcemaps",
            "inject",
            str(tmp_path),
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "Traceback" not in proc.stderr
    assert any("bad.js" in e and "not valid JSON" in e for e in errors)
    assert any("missing" in e and "no such file" in e for e in errors)
    assert "_sentryDebugIds" in (tmp_path / "a.js").read_text()  # the rest still injected


def test_upload_without_release_or_debug_ids_says_what_to_do(
    tmp_path, capsys, monkeypatch, recorder
):
    monkeypatch.setenv("RELEASETAG_URL", recorder.url)
    monkeypatch.setenv("RELEASETAG_AUTH_TOKEN", "t")
    monkeypatch.setenv("RELEASETAG_ORG", "o")
    monkeypatch.setenv("RELEASETAG_PROJECT", "p")
    monkeypatch.chdir(tmp_path)  # no git repository: nothing to detect
    (tmp_path / "a.js").write_text("var a=1;\n")
    assert main(["sourcemaps", "upload", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no release and no debug IDs") and "inject" in err
    assert not recorder.requests()


@pytest.mark.parametrize(
    "prefix",
    ["~/../../etc", "~/a/./b", "https://cdn.example.com/static/../../x", "..", "~/..\\x"],
)
def test_upload_refuses_url_prefixes_that_leave_their_folder(tmp_path, prefix):
    _site(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "sourcemaps", "upload", "--release", "r@1",
         "--url-prefix", prefix, str(tmp_path)],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "RELEASETAG_AUTH_TOKEN": "t", "RELEASETAG_ORG": "o",
             "RELEASETAG_PROJECT": "p", "RELEASETAG_URL": "http://127.0.0.1:9/"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: --url-prefix") and "'..'" in proc.stderr


def test_bundle_entries_never_leave_their_folder():
    from releasetag.build.artifacts.bundle import BundleError, zip_name
    from releasetag.build.artifacts.collect import make_url
    from releasetag.build.artifacts.sourcemaps import SourceMapError

    assert zip_name("~/static/app.js") == "files/_/_/static/app.js"
    for url in ("~/../etc/passwd", "~/a/../../b", "https://h/x/../../y", "~/./a"):
        with pytest.raises(BundleError):
            zip_name(url)
    with pytest.raises(SourceMapError):
        make_url("app.js", "~/../..")
