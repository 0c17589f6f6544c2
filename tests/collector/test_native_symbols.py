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
    assert frames[1]["data"]["resolution"]["steps"][0].startswith("named from ")
    # built with -g: file and line from its DWARF line table (no source bundle uploaded)
    assert [(f["filename"], f["lineno"]) for f in frames[:2]] == [("a.c", 2), ("a.c", 1)]
    reasons = [" ".join(f["data"]["resolution"]["steps"]) for f in frames[2:]]
    assert "macho symbol tables are not read" in reasons[0]
    assert "no uploaded debug file has debug ID 11111111-2222-3333-4444-555555555555" in reasons[1]
    assert "is in none of the event's images" in reasons[2]
    assert all(f.get("function") is None for f in frames[2:])


def _malformed_symtab(exe, out):
    """A copy of ``exe`` whose ``.symtab`` header claims one-byte entries running past the
    end of the file (what pyelftools reads symbol by symbol until it breaks)."""
    import struct

    data = bytearray(open(exe, "rb").read())
    with open(exe, "rb") as fh:
        elf = ELFFile(fh)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == ".symtab")
        shoff, shentsize = elf.header["e_shoff"], elf.header["e_shentsize"]
    header = shoff + index * shentsize
    offset = struct.unpack_from("<Q", data, header + 24)[0]
    struct.pack_into("<Q", data, header + 32, len(data) - offset + 4096)  # sh_size
    struct.pack_into("<Q", data, header + 56, 1)  # sh_entsize
    out.write_bytes(bytes(data))
    return str(out)


def test_a_malformed_symbol_table_is_a_cached_reason(collector, gcc_binaries, tmp_path):  # noqa: F811
    exe = _malformed_symtab(gcc_binaries["debug_exe"], tmp_path / "broken")
    _cli(collector, "debug-files", "upload", exe)
    info = json.loads(_cli(collector, "debug-files", "check", "--json", exe).stdout)
    image = {"type": "elf", "code_file": exe, "debug_id": info["objects"][0]["debug_id"],
             "image_addr": hex(BASE), "image_size": 0x100000}  # fmt: skip
    event = {"platform": "native", "debug_meta": {"images": [image]},
             "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": [
                 {"instruction_addr": hex(BASE + 0x1000)}, {"instruction_addr": hex(BASE + 8)}]}}]}}  # fmt: skip
    path = tmp_path / "crash.json"
    path.write_text(json.dumps(event))
    for _ in range(2):  # the second event finds the failure cached, with the same reason
        out = _cli(collector, "send-event", "--dsn", collector.dsn, "--json", str(path)).stdout
        stored = collector.event(json.loads(out)["events"][0]["event_id"])
        frames = stored["payload"]["exception"]["values"][0]["stacktrace"]["frames"]
        for frame in frames:
            assert frame["data"]["resolution"]["resolved"] is False
            (step,) = frame["data"]["resolution"]["steps"]
            assert "the symbol table is malformed (entry size 1" in step, step
    assert "Traceback" not in collector.stderr()


def test_symbols_of_a_large_table_are_read_without_pyelftools(gcc_binaries):  # noqa: F811
    """The bounded reader finds what pyelftools finds in a real binary."""
    from releasetag.collector.native import Symbols

    exe = gcc_binaries["debug_exe"]
    with open(exe, "rb") as fh:
        symbols = Symbols(fh.read())
    assert symbols.problem is None
    for name in ("main", "f"):
        assert symbols.lookup(_symbol(exe, name) + symbols.vmaddr) == name
