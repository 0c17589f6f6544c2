"""Folder walks of ``sourcemaps inject/upload`` and ``debug-files check/upload`` on real
trees with symbolic link loops, a folder linked twice, a FIFO, a link to ``/dev/zero``, a
broken link and a file name that is not UTF-8: no hang (the timeout), no traceback, each
file once, one warning line per thing left out."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.test_sourcemaps_parity import _bundle, _script

pytestmark = pytest.mark.timeout(60)


def _hostile_tree(dist: Path) -> None:
    (dist / "sub" / "deep").mkdir(parents=True)
    (dist / "a.js").write_text("var a=1;\n")
    (dist / "sub" / "b.js").write_text("var b=2;\n")
    (dist / "sub" / "deep" / "c.js").write_text("var c=3;\n")
    (dist / "sub" / "deep" / "up").symlink_to("../..", target_is_directory=True)  # a loop
    (dist / "sub" / "self").symlink_to(".", target_is_directory=True)  # a loop
    (dist / "alias").symlink_to("sub", target_is_directory=True)  # the same folder twice
    os.mkfifo(dist / "fifo.js")
    (dist / "zero.js").symlink_to("/dev/zero")
    (dist / "gone.js").symlink_to("missing.js")
    (dist / "ring.js").symlink_to("ring.js")  # a link to itself
    with open(os.path.join(os.fsencode(dist), b"bad-\xff.js"), "wb") as fh:
        fh.write(b"var bad=1;\n")


def _expect_warnings(err: str) -> None:
    lines = err.splitlines()
    assert not any("Traceback" in line for line in lines), err
    for needle in (
        "sub/deep/up: file system loop",
        "sub/self: file system loop",
        "alias: the same folder as",
        "fifo.js: not a regular file (a FIFO)",
        "zero.js: not a regular file (a character device)",
        "gone.js: broken symbolic link",
        "ring.js: symbolic link loop",
        "bad-\\xff.js: file name is not valid UTF-8",
    ):
        assert sum(needle in line for line in lines) == 1, (needle, err)


def test_sourcemaps_upload_walks_each_real_folder_once(rt, recorder, tmp_path):
    dist = tmp_path / "dist"
    _hostile_tree(dist)
    _script(recorder)
    res = rt("sourcemaps", "upload", "-r", "web@1", "--no-cache", "dist")
    assert res.code == 0, res
    _expect_warnings(res.err)
    _, manifest, _ = _bundle(recorder)
    assert sorted(e["url"] for e in manifest["files"].values()) == [
        "~/a.js", "~/sub/b.js", "~/sub/deep/c.js",
    ]  # fmt: skip


def test_sourcemaps_inject_walks_each_real_folder_once(rt, tmp_path):
    dist = tmp_path / "dist"
    _hostile_tree(dist)
    res = rt("sourcemaps", "inject", "--json", "dist")
    assert res.code == 0, res
    files = json.loads(res.out)["files"]
    injected = sorted(f["path"] for f in files if f["action"] == "injected")
    assert injected == ["dist/a.js", "dist/sub/b.js", "dist/sub/deep/c.js"]
    assert len([f for f in files if f["action"] == "skipped"]) == 8
    text = rt("sourcemaps", "inject", "--dry-run", "dist")
    assert text.code == 0
    _expect_warnings(text.err)


def test_named_special_files_are_one_line_errors(rt, recorder, tmp_path):
    os.mkfifo(tmp_path / "pipe.js")
    (tmp_path / "zero.js").symlink_to("/dev/zero")
    (tmp_path / "gone.js").symlink_to("missing.js")
    for args in (
        ("sourcemaps", "inject"),
        ("sourcemaps", "upload", "-r", "web@1"),
        ("debug-files", "check"),
    ):
        res = rt(*args, "pipe.js", "zero.js", "gone.js")
        assert res.code == 1, (args, res)
        assert "Traceback" not in res.err
        errors = [line for line in res.err.splitlines() if line.startswith("error: ")]
        assert any("pipe.js" in e and "FIFO" in e for e in errors), (args, res.err)
        assert any("zero.js" in e and "character device" in e for e in errors), (args, res.err)
        assert any("gone.js" in e and ("broken symbolic link" in e or "No such" in e)
                   for e in errors), (args, res.err)  # fmt: skip


def test_debug_files_upload_walks_each_real_folder_once(rt, recorder, tmp_path):
    gcc = shutil.which("gcc")
    if not gcc:
        pytest.fail("gcc is needed for this test")
    dist = tmp_path / "dist"
    _hostile_tree(dist)
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 0; }\n")
    import subprocess

    subprocess.run([gcc, "-g", "-o", str(dist / "sub" / "app"), str(src)], check=True, timeout=60)
    recorder.reset()
    recorder.respond(
        {"path": "/chunk-upload/", "method": "GET", "body": {
            "url": recorder.url + "/api/0/organizations/acme/chunk-upload/",
            "chunkSize": 1 << 20, "chunksPerRequest": 8, "maxRequestSize": 8 << 20,
            "concurrency": 1, "hashAlgorithm": "sha1", "accept": ["debug_files"]}},
        {"path": "/difs/assemble/", "body": {}},
    )  # fmt: skip
    res = rt("debug-files", "upload", "--json", "dist")
    assert "Traceback" not in res.err, res
    _expect_warnings(res.err)
    assembled = recorder.requests("/difs/assemble/")[0].json()
    assert [v["name"] for v in assembled.values()] == ["app"]  # once, not via alias/ or loops
