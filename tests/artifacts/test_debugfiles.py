"""Debug file identification, checked against symbolic and sentry-cli on real files."""

from __future__ import annotations

import glob
import os
import random
import zipfile

import pytest

from releasetag.build.artifacts.debugfiles import inspect, scan

from .conftest import FIXTURES, sentry_cli_check, symbolic_objects

SYSTEM_FILES = [
    p
    for p in ["/bin/true", "/bin/ls", "/usr/bin/python3"]
    + sorted(
        glob.glob("/usr/lib/x86_64-linux-gnu/libc.so.6")
        + glob.glob("/usr/lib/x86_64-linux-gnu/libz.so*")[:1]
        + glob.glob("/usr/lib/x86_64-linux-gnu/libcrypto.so*")[:1]
        + glob.glob("/usr/lib/x86_64-linux-gnu/crt1.o")
    )
    if os.path.exists(p)
]
FIXTURE_FILES = [
    "win.dll",
    "win.pdb",
    "mac_arm64.dylib",
    "mac_x86_64.dylib",
    "mac_fat.dylib",
    "mac_arm64.dylib.dsym",
    "sample.wasm",
    "sample.sym",
]
SYMBOLIC_KIND = {
    "executable": "exe",
    "library": "lib",
    "debug companion": "dbg",
    "relocatable": "rel",
}


def _assert_same_as_symbolic(path: str) -> None:
    found = inspect(path)
    assert found.problem is None, found.problem
    ref = symbolic_objects(path)
    assert [(o.debug_id, o.code_id, o.arch) for o in found.objects] == [
        (str(r.debug_id), r.code_id and str(r.code_id), r.arch) for r in ref
    ]
    assert [sorted(o.features) for o in found.objects] == [sorted(r.features) for r in ref]
    if found.kind == "elf":
        assert [SYMBOLIC_KIND[o.file_type] for o in found.objects] == [r.kind for r in ref]


def _assert_same_as_sentry_cli(path: str) -> None:
    found = inspect(path)
    ref = sentry_cli_check(path)
    mine = sorted((o.debug_id, o.code_id, o.arch) for o in found.objects)
    theirs = sorted((v["debug_id"], v["code_id"], v["arch"]) for v in ref["variants"])
    assert mine == theirs
    assert ", ".join(found.features) == ref["features"] or set(found.features) == set(
        f.strip() for f in ref["features"].split(",") if f.strip()
    )


@pytest.mark.tools("sentry-cli")
@pytest.mark.parametrize("path", SYSTEM_FILES)
def test_system_elf_files_match_symbolic_and_sentry_cli(path):
    assert inspect(path).kind == "elf"
    _assert_same_as_symbolic(path)
    _assert_same_as_sentry_cli(path)


@pytest.mark.parametrize(
    "name",
    [
        "debug_exe",
        "no_build_id",
        "md5_build_id",
        "short_build_id",
        "libshared.so",
        "object.o",
        "exe.debug",
        "stripped",
        "compressed_debug",
    ],
)
def test_gcc_built_files_match_symbolic(gcc_binaries, name):
    _assert_same_as_symbolic(gcc_binaries[name])
    _assert_same_as_sentry_cli(gcc_binaries[name])


def test_gcc_debug_companion_has_same_id_as_its_executable(gcc_binaries):
    exe, dbg = inspect(gcc_binaries["debug_exe"]), inspect(gcc_binaries["exe.debug"])
    assert exe.objects[0].debug_id == dbg.objects[0].debug_id
    assert dbg.objects[0].file_type == "debug companion"
    assert "debug" in dbg.features and "debug" not in inspect(gcc_binaries["stripped"]).features


@pytest.mark.tools("sentry-cli")
@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixtures_match_symbolic_and_sentry_cli(name):
    path = os.path.join(FIXTURES, name)
    _assert_same_as_symbolic(path)
    _assert_same_as_sentry_cli(path)


def test_fat_macho_lists_each_architecture():
    fat = inspect(os.path.join(FIXTURES, "mac_fat.dylib"))
    thin = [
        inspect(os.path.join(FIXTURES, f"mac_{a}.dylib")).objects[0] for a in ("arm64", "x86_64")
    ]
    assert fat.kind == "macho"
    assert sorted(o.arch for o in fat.objects) == ["arm64", "x86_64"]
    assert sorted(o.debug_id for o in fat.objects) == sorted(o.debug_id for o in thin)


def test_dsym_companion_matches_its_dylib():
    dylib = inspect(os.path.join(FIXTURES, "mac_arm64.dylib")).objects[0]
    dsym = inspect(os.path.join(FIXTURES, "mac_arm64.dylib.dsym")).objects[0]
    assert dsym.debug_id == dylib.debug_id
    assert dsym.file_type == "debug companion" and "debug" in dsym.features
    assert "debug" not in dylib.features


def test_pe_and_pdb_share_debug_id_and_pe_names_its_pdb():
    dll = inspect(os.path.join(FIXTURES, "win.dll")).objects[0]
    pdb = inspect(os.path.join(FIXTURES, "win.pdb")).objects[0]
    assert dll.debug_id == pdb.debug_id
    assert dll.debug_id.endswith("-1")  # age 1
    assert dll.name.endswith("win.pdb")
    assert (dll.kind, dll.file_type, pdb.kind) == ("pe", "library", "pdb")


def _cuts(size: int):
    points = {0, 1, 3, 4, 8, 16, 31, 32, 52, 63, 64, 100, 200, 512, 1000, 4096, size // 2, size - 1}
    return sorted(p for p in points if 0 <= p < size)


@pytest.mark.parametrize("name", FIXTURE_FILES + ["/bin/true"])
def test_truncated_files_give_a_clear_problem_not_an_exception(tmp_path, name):
    src = name if name.startswith("/") else os.path.join(FIXTURES, name)
    data = open(src, "rb").read()
    for cut in _cuts(len(data)):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(data[:cut])
        found = inspect(str(path))
        if found.problem is None:  # some prefixes still hold the identifier, and that is fine
            assert found.objects and found.objects[0].debug_id
            continue
        assert "\n" not in found.problem and found.problem
        assert not found.usable


def test_zero_byte_and_random_files(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert inspect(str(empty)).problem == "file is empty"
    rng = random.Random(7)
    for i in range(50):
        path = tmp_path / f"random{i}"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        assert inspect(str(path)).problem
    # random bytes behind each magic number: still a problem line, never an exception
    for magic in (
        b"\x7fELF\x02\x01\x01",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe\0\0\0\x02",
        b"MZ",
        b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0",
        b"\0asm\x01\0\0\0",
        b"MODULE ",
    ):
        for i in range(20):
            path = tmp_path / "magic"
            path.write_bytes(magic + bytes(rng.randrange(256) for _ in range(rng.randrange(200))))
            found = inspect(str(path))
            assert found.problem or found.usable


def test_missing_file_is_reported(tmp_path):
    assert "No such file" in inspect(str(tmp_path / "nope")).problem


def test_scan_walks_folders_and_zip_archives(tmp_path, gcc_binaries):
    folder = tmp_path / "syms"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a debug file")
    with zipfile.ZipFile(folder / "bundle.zip", "w") as zf:
        zf.write(os.path.join(FIXTURES, "win.pdb"), "inner/win.pdb")
        zf.writestr("readme.md", "hello")
    with open(os.path.join(FIXTURES, "sample.sym"), "rb") as src:
        (folder / "sample.sym").write_bytes(src.read())

    def name(f):
        return os.path.relpath(f.info.path, str(folder)) if f.member else os.path.basename(f.path)

    found = {name(f): f for f in scan([str(folder), gcc_binaries["no_build_id"]])}
    assert set(found) == {"bundle.zip:inner/win.pdb", "sample.sym", "no_build_id"}
    assert found["bundle.zip:inner/win.pdb"].info.usable
    assert found["bundle.zip:inner/win.pdb"].member == "inner/win.pdb"
    only_pdb = [f.info.kind for f in scan([str(folder)], types=["pdb"])]
    assert only_pdb == ["pdb"]
