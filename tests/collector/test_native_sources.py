"""Native source context from uploaded source bundles: a C program built with gcc -g (DWARF 5
and 4), uploaded with ``releasetag debug-files upload --include-sources`` (and sentry-cli's)
to a real collector; a native event's frames get file, line and the source lines around it,
on the event JSON and the event page."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from tests.cli.conftest import SENTRY_CLI

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
BASE = 0x7F3A00000000
MAIN_C = """#include "util.h"

int f(int x) {
  int y = twice(x);
  return y + 1;  /* the crashing line */
}

int main(void) {
  int r = f(1);
  return r;
}
"""
UTIL_H = """static int twice(int x) {
  return x * 2;
}
"""


def build(tmp_path, compiler: str = "gcc", debug: str = "-g"):
    """A -g -O0 build of MAIN_C + UTIL_H in ``tmp_path/src``; returns the executable's path."""
    cc = shutil.which(compiler)
    if not cc:
        pytest.fail(f"{compiler} is needed for this test")
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "main.c").write_text(MAIN_C)
    (src / "util.h").write_text(UTIL_H)
    exe = tmp_path / f"app-{compiler}"
    subprocess.run([cc, debug, "-O0", "-o", str(exe), "main.c"], cwd=str(src), check=True,
                   timeout=60)  # fmt: skip
    return str(exe)


def line_address(exe: str, source: str, line: int) -> int:
    """The first line-table address of ``source:line``, relative to the first PT_LOAD."""
    with open(exe, "rb") as fh:
        elf = ELFFile(fh)
        vmaddr = min(s["p_vaddr"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            names = [e.name.decode() for e in program.header["file_entry"]]
            offset = 0 if program.header["version"] >= 5 else 1
            for entry in program.get_entries():
                st = entry.state
                if st and not st.end_sequence and st.line == line:
                    if names[st.file - offset] == source:
                        return st.address - vmaddr
    raise AssertionError(f"no row for {source}:{line}")


def _cli(collector, *args):
    res = subprocess.run([sys.executable, "-m", "releasetag", *args], env=collector.env(),
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res


def _send(collector, tmp_path, exe, frames):
    info = json.loads(_cli(collector, "debug-files", "check", "--json", exe).stdout)
    event = {
        "platform": "native",
        "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": frames}}]},
        "debug_meta": {"images": [{"type": "elf", "code_file": exe, "image_addr": hex(BASE),
                                   "image_size": 0x100000,
                                   "debug_id": info["objects"][0]["debug_id"]}]},
    }  # fmt: skip
    path = tmp_path / "crash.json"
    path.write_text(json.dumps(event))
    out = _cli(collector, "send-event", "--dsn", collector.dsn, "--json", str(path)).stdout
    event_id = json.loads(out)["events"][0]["event_id"]
    stored = collector.event(event_id)
    return event_id, stored["payload"]["exception"]["values"][0]["stacktrace"]["frames"]


def _frames(exe):
    """main calling f (a return address: one past its call's line row) and f crashing."""
    return [
        {"instruction_addr": hex(BASE + line_address(exe, "main.c", 9) + 1)},
        {"instruction_addr": hex(BASE + line_address(exe, "main.c", 5))},
    ]


@pytest.mark.parametrize("tool", ["releasetag", "sentry-cli"])
def test_frames_get_source_context_from_the_uploaded_bundle(collector, tmp_path, tool):
    exe = build(tmp_path)
    if tool == "releasetag":
        res = _cli(collector, "debug-files", "upload", "--include-sources", exe)
        assert "(sources)" in res.stdout, res.stdout
    else:
        subprocess.run([SENTRY_CLI, "debug-files", "upload", "--include-sources", exe],
                       env=collector.env(), check=True, capture_output=True, timeout=60)  # fmt: skip
    difs = collector.api("GET", f"/projects/{collector.org}/{collector.project}/files/dsyms/")
    assert sorted(d["symbolType"] or "" for d in difs) == ["elf", "sourcebundle"]
    assert len({d["debugId"] for d in difs}) == 1
    event_id, (main, f) = _send(collector, tmp_path, exe, _frames(exe))
    src = str(tmp_path / "src" / "main.c")
    lines = MAIN_C.splitlines()
    assert (main["function"], main["abs_path"], main["filename"], main["lineno"]) == (
        "main", src, "main.c", 9)  # fmt: skip
    assert main["context_line"] == "  int r = f(1);"
    assert (f["function"], f["lineno"], f["context_line"]) == ("f", 5, lines[4])
    assert f["pre_context"] == lines[0:4] and f["post_context"] == lines[5:10]
    assert "source context from the source bundle" in f["data"]["resolution"]["steps"][-1]
    status, page = collector.request("GET", f"/events/{event_id}/", token=None)
    assert status == 200
    text = page.decode()
    assert html.escape("return y + 1;  /* the crashing line */", quote=False) in text
    assert "main.c" in text and "line 9" in text
    assert "source context from the source bundle" in text  # how the frame was symbolicated


def test_without_a_bundle_the_line_is_found_and_the_reason_said(collector, tmp_path):
    exe = build(tmp_path, debug="-gdwarf-4")  # older line tables: comp_dir from the unit
    _cli(collector, "debug-files", "upload", exe)
    _, (main, f) = _send(collector, tmp_path, exe, _frames(exe))
    assert (main["lineno"], f["lineno"], f["filename"]) == (9, 5, "main.c")
    assert "context_line" not in f
    assert "no source bundle uploaded for debug ID" in f["data"]["resolution"]["steps"][-1]
    # the bundle uploaded afterwards is used by the next event (no negative result cached)
    res = _cli(collector, "debug-files", "upload", "--include-sources", exe)
    assert "(sources)" in res.stdout
    _, (_, f) = _send(collector, tmp_path, exe, _frames(exe))
    assert f["context_line"] == MAIN_C.splitlines()[4]
