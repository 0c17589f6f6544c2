"""Source bundles side by side with sentry-cli: ``debug-files upload --include-sources``
against the recording server and ``debug-files bundle-sources`` on the same gcc-built file;
both bundles are compared entry by entry and read back with symbolic."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zipfile

import pytest

from tests.collector.test_native_sources import build

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts", "fixtures")


def _script(recorder):
    recorder.reset()
    recorder.respond(
        {"path": "/chunk-upload/", "method": "GET", "body": {
            "url": recorder.url + "/api/0/organizations/acme/chunk-upload/",
            "chunkSize": 8 << 20, "chunksPerRequest": 64, "maxRequestSize": 32 << 20,
            "maxFileSize": 2 << 30, "concurrency": 1, "hashAlgorithm": "sha1",
            "compression": ["gzip"], "accept": ["debug_files", "sources"]}},
        {"path": "/difs/assemble/", "times": 1, "missing_all": True},
        {"path": "/difs/assemble/", "body": {}},
    )  # fmt: skip


def _uploaded(recorder):
    """{name, debug_id, bytes} per file the first assemble request listed."""
    chunks = {}
    for req in recorder.requests("/chunk-upload/"):
        if req["method"] != "POST":
            continue
        boundary = re.search(r"boundary=\"?([^\";]+)", req["headers"]["content-type"]).group(1)
        for raw in req.body.split(b"--" + boundary.encode())[1:]:
            if raw.startswith(b"--"):
                break
            head, _, data = raw.partition(b"\r\n\r\n")
            name = re.search(rb'filename="([^"]+)"', head).group(1).decode()
            chunks[name] = gzip.decompress(data[:-2]) if b"file_gzip" in head else data[:-2]
    asked = recorder.requests("/difs/assemble/")[0].json()
    return sorted(
        ((v["name"], v.get("debug_id"), b"".join(chunks[c] for c in v["chunks"]))
         for v in asked.values()), key=lambda t: t[2][:4] != b"SYSB")  # fmt: skip


def _open(data: bytes):
    """(header, [(name, method, time, mode, system)], raw manifest, {name: content})."""
    zf = zipfile.ZipFile(io.BytesIO(data[8:]))
    entries = [(i.filename, i.compress_type, i.date_time, i.external_attr, i.create_system)
               for i in zf.infolist()]  # fmt: skip
    raw = zf.read("manifest.json")
    return data[:8], entries, raw, {n: zf.read(n) for n in zf.namelist()}


def test_upload_include_sources_sends_what_sentry_cli_sends(rt, sentry_cli, recorder, tmp_path):
    exe = build(tmp_path)
    sent = {}
    for name, run in (("ours", rt), ("theirs", sentry_cli)):
        _script(recorder)
        res = run("debug-files", "upload", "--include-sources", exe)
        assert res.code == 0, res
        sent[name] = _uploaded(recorder)
    ours, theirs = sent["ours"], sent["theirs"]
    assert [(n, d) for n, d, _ in ours] == [(n, d) for n, d, _ in theirs]  # same name, debug ID
    assert ours[0][2][:4] == b"SYSB" and ours[1][2] == theirs[1][2]  # the ELF byte for byte
    mine, ref = _open(ours[0][2]), _open(theirs[0][2])
    assert mine[:3] == ref[:3]  # header, entries (order, deflate, time, mode), manifest bytes
    assert mine[3] == ref[3]  # every file's content
    manifest = json.loads(mine[2])
    src = str(tmp_path / "src")
    assert manifest["files"] == {
        f"files{src}/{n}": {"type": "source", "path": f"{src}/{n}"} for n in ("main.c", "util.h")
    }
    assert manifest["object_name"] == os.path.basename(exe) and manifest["arch"] == "x86_64"


@pytest.mark.parametrize("debug", ["-g", "-gdwarf-4"])
def test_bundle_sources_matches_sentry_cli_and_symbolic_reads_it(rt, sentry_cli, tmp_path, debug):
    exe = build(tmp_path, debug=debug)
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    res = rt("debug-files", "bundle-sources", "-o", str(tmp_path / "ours"), exe)
    assert res.code == 0 and res.out.strip() == str(tmp_path / "ours" / "app-gcc.src.zip"), res
    assert (
        sentry_cli("debug-files", "bundle-sources", "-o", str(tmp_path / "theirs"), exe).code == 0
    )
    mine = (tmp_path / "ours" / "app-gcc.src.zip").read_bytes()
    ref = (tmp_path / "theirs" / "app-gcc.src.zip").read_bytes()
    assert _open(mine) == _open(ref)
    from symbolic.debuginfo import Archive

    (obj,) = Archive.open(str(tmp_path / "ours" / "app-gcc.src.zip")).iter_objects()
    (elf,) = Archive.open(exe).iter_objects()
    assert (obj.file_format, obj.kind, str(obj.debug_id), str(obj.code_id), obj.arch) == (
        "sourcebundle", "src", str(elf.debug_id), str(elf.code_id), elf.arch)  # fmt: skip
    assert obj.features == frozenset({"sources"})


def test_files_without_sources_are_said_in_one_line(rt, recorder, tmp_path):
    exe = build(tmp_path)
    (tmp_path / "src" / "main.c").unlink()
    (tmp_path / "src" / "util.h").unlink()
    res = rt("debug-files", "bundle-sources", exe, os.path.join(FIXTURES, "win.pdb"))
    assert res.code == 0 and res.out == "", res
    assert f"skipped {exe} (no files found)" in res.err
    assert f"skipped {os.path.join(FIXTURES, 'win.pdb')} (no files found)" in res.err
    _script(recorder)
    res = rt("debug-files", "upload", "--include-sources", exe, os.path.join(FIXTURES, "win.pdb"),
             os.path.join(FIXTURES, "sample.sym"))  # fmt: skip
    assert res.code == 0, res
    assert res.err.count("no source files found on this machine") == 2
    assert res.err.count("Breakpad files carry no source files") == 1
    assert "Traceback" not in res.err
    names = sorted(n for n, _, _ in _uploaded(recorder))
    assert names == sorted([os.path.basename(exe), "win.pdb", "sample.sym"])
    assert rt("debug-files", "bundle-sources", str(tmp_path / "nope")).code == 1


def test_dsym_and_pdb_bundles_match_sentry_cli(rt, sentry_cli, tmp_path):
    """The committed dSYM (clang, DWARF 5) and PDB (clang-cl, lld-link) name
    /tmp/tmp.AhXHyI49Nw/lib.c: the source is put there for the test (and removed after
    when the test made it; one test, so no other test removes it meanwhile)."""
    folder = "/tmp/tmp.AhXHyI49Nw"
    made = not os.path.exists(folder)
    os.makedirs(folder, exist_ok=True)
    source = os.path.join(folder, "lib.c")
    wrote = not os.path.exists(source)
    if wrote:
        with open(source, "w") as fh:
            fh.write("int releasetag_answer(int x) { return x * 42 + 1; }\n")
    try:
        for name in ("mac_arm64.dylib.dsym", "win.pdb"):
            path = os.path.join(FIXTURES, name)
            for side, run in (("ours", rt), ("theirs", sentry_cli)):
                out = str(tmp_path / name / side)
                assert run("debug-files", "bundle-sources", "-o", out, path).code == 0
            bundle = name.rsplit(".", 1)[0] + ".src.zip"
            mine = (tmp_path / name / "ours" / bundle).read_bytes()
            ref = (tmp_path / name / "theirs" / bundle).read_bytes()
            assert _open(mine) == _open(ref), name
            assert json.loads(_open(mine)[2])["files"] == {
                "files/tmp/tmp.AhXHyI49Nw/lib.c": {"type": "source", "path": source}
            }
    finally:
        if wrote:
            os.unlink(source)
        if made:
            os.rmdir(folder)
