"""``releasetag debug-files bundle-sources`` vs ``sentry-cli debug-files bundle-sources``
(issue 29): the time to make the source bundle of one gcc -g executable built from a
generated C project (300 ``.c`` files of 40 functions each plus 20 shared headers; 60 files
in --quick), written to a fresh folder each sample. Wall and CPU time of the whole CLI
process (bench_artifacts.run). Skipped when sentry-cli or gcc is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .harness import Context, Scenario, SkipScenario

_BIN = os.path.dirname(sys.executable)
_STATE: dict = {}


def _project(folder: str, files: int) -> str:
    """Write the C project and build it with gcc -g; the executable's path."""
    src = os.path.join(folder, "src")
    os.makedirs(os.path.join(src, "include"), exist_ok=True)
    for h in range(20):
        with open(os.path.join(src, "include", f"h{h}.h"), "w") as fh:
            fh.write(f"static inline int h{h}(int x) {{\n  return x * {h + 1};\n}}\n")
    names = []
    for i in range(files):
        name = os.path.join(src, f"m{i}.c")
        body = [f'#include "include/h{i % 20}.h"\n']
        for j in range(40):
            body.append(f"int m{i}_{j}(int x) {{\n  int y = h{i % 20}(x) + {j};\n  return y;\n}}\n")
        with open(name, "w") as fh:
            fh.write("".join(body))
        names.append(f"m{i}.c")
    with open(os.path.join(src, "main.c"), "w") as fh:
        fh.write("int m0_0(int);\nint main(void) {\n  return m0_0(1);\n}\n")
    exe = os.path.join(folder, "app")
    subprocess.run(["gcc", "-g", "-O0", "-o", exe, "main.c", *names], cwd=src, check=True,
                   timeout=600)  # fmt: skip
    return exe


def _setup(ctx: Context) -> None:
    sentry_cli = os.path.join(_BIN, "sentry-cli")
    if not os.path.exists(sentry_cli):
        raise SkipScenario("sentry-cli is not installed next to this Python")
    if not shutil.which("gcc"):
        raise SkipScenario("gcc is not installed")
    folder = os.path.join(ctx.tmpdir, "source-bundles")
    os.makedirs(folder, exist_ok=True)
    exe = _project(folder, 60 if ctx.quick else 300)
    out = os.path.join(folder, "out")
    env = dict(ctx.env, PYTHONPATH=os.path.join(ctx.root, "src"), SENTRY_LOAD_DOTENV="0",
               SENTRY_DISABLE_UPDATE_CHECK="1", HOME=ctx.tmpdir)  # fmt: skip
    args = ["debug-files", "bundle-sources", "-o", out, exe]
    _STATE.update(
        env=env,
        out=out,
        cmds={
            "releasetag": [ctx.python, "-m", "releasetag", *args],
            "sentry_cli": [sentry_cli, *args],
        },
    )
    ctx.notes.setdefault("debug_files.bundle_sources", {})["input"] = {
        "source files": 60 if ctx.quick else 300,
        "executable MB": round(os.path.getsize(exe) / 1e6, 1),
    }


def _teardown(ctx: Context) -> None:
    _STATE.clear()


def _variant(tool: str):
    def run(ctx: Context) -> dict:
        from . import bench_artifacts as ba

        shutil.rmtree(_STATE["out"], ignore_errors=True)
        try:
            res = ba.run(_STATE["cmds"][tool], _STATE["env"])
        except SystemExit as exc:
            raise RuntimeError(str(exc)) from None
        bundle = os.path.join(_STATE["out"], "app.src.zip")
        ctx.notes.setdefault("debug_files.bundle_sources", {}).setdefault("bundle KB", {})[tool] = (
            round(os.path.getsize(bundle) / 1e3, 1)
        )
        return {"wall": res["wall_s"], "cpu": res["cpu_s"]}

    return run


SCENARIOS = [
    Scenario(
        name="debug_files.bundle_sources",
        title="debug-files bundle-sources of a gcc -g executable (vs sentry-cli)",
        variants={"releasetag": _variant("releasetag"), "sentry_cli": _variant("sentry_cli")},
        metrics={"wall": "s", "cpu": "s"},
        reference="sentry_cli",
        repeats=5,
        quick_repeats=2,
        warmup=1,
        setup=_setup,
        teardown=_teardown,
        notes="same executable, bundles written to an emptied folder each sample",
    ),
]
