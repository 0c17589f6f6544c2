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


def _run_cli(args, cwd, env):
    return subprocess.run([SENTRY_CLI, "debug-files", "find", *args], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_find_searches_xcode_derived_data_as_sentry_cli_does(rt, api_env, home, tmp_path):
    products = home / "Library/Developer/Xcode/DerivedData/App-abc/Build/Products/Debug"
    products.mkdir(parents=True)
    shutil.copy(os.path.join(FIXTURES, "mac_arm64.dylib"), products / "libApp.dylib")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(api_env, HOME=str(home))
    for extra in ([], ["--no-well-known"], ["-t", "elf"], ["--json"]):
        ours = rt("debug-files", "find", MACHO_ID, *extra, cwd=empty, env=env)
        theirs = _run_cli([MACHO_ID, *extra], empty, env)
        assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout), (extra, ours)
    found = rt("debug-files", "find", MACHO_ID, cwd=empty, env=env)
    assert found.out == f"{MACHO_ID} {products / 'libApp.dylib'} [dsym]\n"


def test_find_looks_inside_zip_archives(rt, api_env, tmp_path):
    import zipfile

    from tests.collector.test_native_sources import build

    exe = build(tmp_path)
    elf_id = json.loads(rt("debug-files", "check", "--json", exe).out)["objects"][0]["debug_id"]
    folder = tmp_path / "syms"
    (folder / "deep").mkdir(parents=True)
    with zipfile.ZipFile(folder / "deep" / "symbols.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(exe, "bin/app")
        zf.write(os.path.join(FIXTURES, "mac_arm64.dylib"), "Frameworks/libApp.dylib")
        zf.writestr("README.txt", "not a debug file\n")
    shutil.copy(os.path.join(FIXTURES, "mac_arm64.dylib"), folder / "libApp.dylib")
    res = rt("debug-files", "find", elf_id, MACHO_ID, "--no-well-known", cwd=folder)
    archive = folder / "deep" / "symbols.zip"
    assert res.code == 0, res
    assert sorted(res.out.splitlines()) == sorted([
        f"{MACHO_ID} {archive}/Frameworks/libApp.dylib [dsym]",
        f"{elf_id} {archive}/bin/app [elf]",
        f"{MACHO_ID} {folder / 'libApp.dylib'} [dsym]",
    ])  # fmt: skip
    as_json = rt(
        "debug-files", "find", elf_id, "--json", "-t", "elf", "--no-well-known", cwd=folder
    )
    assert json.loads(as_json.out) == [{"type": "elf", "id": elf_id, "path": f"{archive}/bin/app"}]
    # sentry-cli 3.8.2 does not open zip archives: the ELF inside is missing there
    theirs = _run_cli([elf_id, "--no-well-known"], folder, api_env)
    assert theirs.returncode == 1 and elf_id in theirs.stderr
