"""Helpers shared by the artifacts tests: reference tools (symbolic, sentry-cli) as oracles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def sentry_cli() -> str:
    """The sentry-cli binary from the PyPI wheel installed next to this Python."""
    here = os.path.join(os.path.dirname(sys.executable), "sentry-cli")
    path = here if os.path.exists(here) else shutil.which("sentry-cli")
    if not path:
        pytest.fail("sentry-cli is not installed (it is in the test extra)")
    return path


def sentry_cli_check(path: str) -> dict:
    out = subprocess.run(
        [sentry_cli(), "debug-files", "check", "--json", path],
        capture_output=True,
        timeout=60,
        check=True,
        env=dict(os.environ, SENTRY_LOAD_DOTENV="0"),
    )
    return json.loads(out.stdout)


def symbolic_objects(path: str) -> list:
    from symbolic.debuginfo import Archive

    return list(Archive.open(path).iter_objects())


@pytest.fixture(scope="session")
def gcc_binaries(tmp_path_factory):
    """Binaries built by gcc: with -g, without build-id, a shared library, an object, a
    stripped one and its debug companion."""
    gcc = shutil.which("gcc")
    if not gcc:
        pytest.fail("gcc is needed for these tests (APT_PACKAGES in .ci/run)")
    d = tmp_path_factory.mktemp("gcc")
    src = d / "a.c"
    src.write_text("int f(int x) { return x * 2; }\nint main(void) { return f(1); }\n")
    out = {}

    def build(name, *args):
        subprocess.run([gcc, *args, "-o", str(d / name), str(src)], check=True, timeout=60)
        out[name] = str(d / name)

    build("debug_exe", "-g")
    build("no_build_id", "-Wl,--build-id=none")
    build("md5_build_id", "-Wl,--build-id=md5")
    build("short_build_id", "-Wl,--build-id=0x0102")
    build("libshared.so", "-shared", "-fPIC", "-g")
    build("compressed_debug", "-g", "-gz")
    build("object.o", "-c", "-g")
    subprocess.run(
        ["objcopy", "--only-keep-debug", out["debug_exe"], str(d / "exe.debug")],
        check=True,
        timeout=60,
    )
    out["exe.debug"] = str(d / "exe.debug")
    subprocess.run(["strip", "-o", str(d / "stripped"), out["debug_exe"]], check=True, timeout=60)
    out["stripped"] = str(d / "stripped")
    return out
