"""Native frames named at ingest from an uploaded ELF's symbol table: a gcc-built binary
uploaded with ``releasetag debug-files upload``, an event naming its debug ID sent with
``releasetag send-event FILE``, against a real collector."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from tests.artifacts.conftest import gcc_binaries  # noqa: F401 - the session fixture

pytestmark = pytest.mark.timeout(120)
BASE = 0x7F3A00000000


def _cli(collector, *args):
    res = subprocess.run([sys.executable, "-m", "releasetag", *args], env=collector.env(),
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res


def _symbol(path, name):
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        vmaddr = min(s["p_vaddr"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
        (sym,) = elf.get_section_by_name(".symtab").get_symbol_by_name(name)
        return sym["st_value"] - vmaddr


def test_native_frames_get_function_names_and_reasons(collector, gcc_binaries, tmp_path):  # noqa: F811
    exe = gcc_binaries["debug_exe"]
    _cli(collector, "debug-files", "upload", exe)
    info = json.loads(_cli(collector, "debug-files", "check", "--json", exe).stdout)
    debug_id = info["objects"][0]["debug_id"]
    images = [
        {"type": "elf", "code_file": exe, "debug_id": debug_id, "image_addr": hex(BASE),
         "image_size": 0x100000},
        {"type": "macho", "code_file": "/usr/lib/libSystem.dylib", "debug_id": "0" * 32,
         "image_addr": "0x200000000", "image_size": 4096},
        {"type": "elf", "code_file": "/lib/libother.so", "image_addr": "0x300000000",
         "image_size": 4096, "debug_id": "11111111-2222-3333-4444-555555555555"},
    ]  # fmt: skip
    addresses = [
        BASE + _symbol(exe, "main") + 4,
        BASE + _symbol(exe, "f") + 2,
        0x200000010,
        0x300000010,
        0x10,
    ]
    event = {
        "platform": "native",
        "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": [
            {"instruction_addr": hex(a)} for a in addresses]}}]},
        "debug_meta": {"images": images},
    }  # fmt: skip
    path = tmp_path / "crash.json"
    path.write_text(json.dumps(event))
    (sent,) = json.loads(
        _cli(collector, "send-event", "--dsn", collector.dsn, "--json", str(path)).stdout
    )["events"]
    stored = collector.event(sent["event_id"])
    frames = stored["payload"]["exception"]["values"][0]["stacktrace"]["frames"]
    assert [f.get("function") for f in frames[:2]] == ["main", "f"]
    assert frames[1]["data"]["resolution"]["via"].startswith("debug file ")
    assert "file and line are not resolved" in frames[1]["data"]["resolution"]["steps"][0]
    reasons = [" ".join(f["data"]["resolution"]["steps"]) for f in frames[2:]]
    assert "macho symbol tables are not read" in reasons[0]
    assert "no uploaded debug file has debug ID 11111111-2222-3333-4444-555555555555" in reasons[1]
    assert "is in none of the event's images" in reasons[2]
    assert all(f.get("function") is None for f in frames[2:])
