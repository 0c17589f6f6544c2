"""Source bundle names and the line table of the committed dSYM (no compiler needed)."""

from __future__ import annotations

import io
import json
import os
import zipfile

from releasetag.build.artifacts.formats import DebugObject
from releasetag.build.artifacts.formats.dwarf import LineTable, source_files
from releasetag.build.artifacts.source_bundle import bundle_path, write_source_bundle

from .conftest import FIXTURES

DSYM = os.path.join(FIXTURES, "mac_arm64.dylib.dsym")


def test_archive_names_follow_symbolic():
    assert bundle_path("/usr/src/app/main.c") == "files/usr/src/app/main.c"
    assert bundle_path("C:\\proj\\src\\a.cpp") == "files/C/proj/src/a.cpp"
    assert bundle_path("//srv//share/x.c") == "files/srv/share/x.c"


def test_same_archive_name_gets_a_counter(tmp_path):
    (tmp_path / "x.c").write_text("int x;\n")
    paths = [f"{tmp_path}/x.c", f"{tmp_path}//x.c", f"{tmp_path}///x.c"]  # one name, 3 paths
    obj = DebugObject("elf", "executable", "00000000-0000-0000-0000-000000000001", None, "x86_64")
    out = io.BytesIO()
    result = write_source_bundle(out, obj, "app", paths + ["<built-in>", f"{tmp_path}/gone.c"])
    assert result.files == paths and result.missing == [f"{tmp_path}/gone.c"]
    assert out.getvalue()[:8] == b"SYSB\x02\x00\x00\x00"
    with zipfile.ZipFile(io.BytesIO(out.getvalue()[8:])) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = zf.namelist()
    base = bundle_path(paths[0])
    assert names == [base, base + ".1", base + "..2", "manifest.json"]  # symbolic's counter
    assert [manifest["files"][n]["path"] for n in names[:3]] == paths
    assert list(manifest) == ["files", "arch", "debug_id", "object_name"]  # no code_id: none


def test_dsym_line_table_and_sources():
    with open(DSYM, "rb") as fh:
        data = fh.read()
    assert source_files(data) == ["/tmp/tmp.AhXHyI49Nw/lib.c"]
    table = LineTable(data)
    assert table.problem is None
    first = table.addresses[0]
    assert table.lookup(first) == ("/tmp/tmp.AhXHyI49Nw/lib.c", 1)
    assert table.lookup(first - 1) is None
    assert LineTable(b"\x7fELF" + bytes(60)).problem
    assert LineTable(None).problem == "the debug file's bytes are gone"
