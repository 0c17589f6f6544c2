"""``releasetag debug-files upload`` vs ``sentry-cli debug-files upload`` (issue 8).

Both upload the same set of system ELF shared libraries (copied from /usr/lib into a temp
folder: regular ``*.so*`` files of 100 KB-40 MB in name order, about 150 MB; 40 MB in --quick)
to the same local chunk server (bench/chunk_server.py, reused from bench/bench_artifacts.py),
each sample starting from an empty server (``fresh``), then again with everything already
there (``unchanged``). Wall time of the whole CLI process, as bench_artifacts.py measures it
(``run``: os.wait4, output to files). Skipped when sentry-cli is missing.
"""

from __future__ import annotations

import os
import shutil
import sys

from .harness import Context, Scenario, SkipScenario

LIBDIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib")
_BIN = os.path.dirname(sys.executable)
_STATE: dict = {}


def _pick_libraries(dest: str, total_mb: int) -> tuple:
    """Copy regular ELF ``*.so*`` files into ``dest`` until ``total_mb``; (count, bytes)."""
    count = size = 0
    for libdir in LIBDIRS:
        if not os.path.isdir(libdir):
            continue
        for name in sorted(os.listdir(libdir)):
            path = os.path.join(libdir, name)
            if ".so" not in name or os.path.islink(path) or not os.path.isfile(path):
                continue
            n = os.path.getsize(path)
            if not 100_000 <= n <= 40_000_000 or size + n > total_mb * 1_000_000:
                continue
            with open(path, "rb") as fh:
                if fh.read(4) != b"\x7fELF":
                    continue
            shutil.copyfile(path, os.path.join(dest, name))
            count, size = count + 1, size + n
        if count:
            break
    return count, size


def _setup(ctx: Context) -> None:
    from . import bench_artifacts as ba

    sentry_cli = os.path.join(_BIN, "sentry-cli")
    if not os.path.exists(sentry_cli):
        raise SkipScenario(
            "sentry-cli is not installed next to this Python (pip install sentry-cli)"
        )
    folder = os.path.join(ctx.tmpdir, "debug-files")
    os.makedirs(folder, exist_ok=True)
    count, size = _pick_libraries(folder, 40 if ctx.quick else 150)
    if not count:
        raise SkipScenario("no ELF shared libraries found under /usr/lib")
    server = ba.Server()
    cache = os.path.join(ctx.tmpdir, "debug-files-cache")
    env = dict(
        ctx.env,
        RELEASETAG_CACHE_DIR=cache,
        HOME=ctx.tmpdir,
        PYTHONPATH=os.path.join(ctx.root, "src"),
        SENTRY_URL=server.url,
        SENTRY_AUTH_TOKEN="bench-token",
        SENTRY_ORG="bench",
        SENTRY_PROJECT="native",
        SENTRY_LOAD_DOTENV="0",
        SENTRY_DISABLE_UPDATE_CHECK="1",
        RELEASETAG_URL=server.url,
        RELEASETAG_AUTH_TOKEN="bench-token",
        RELEASETAG_ORG="bench",
        RELEASETAG_PROJECT="native",
        CI="1",
    )
    _STATE.update(
        server=server,
        env=env,
        cmds={
            "releasetag": [ctx.python, "-m", "releasetag", "debug-files", "upload", folder],
            "sentry_cli": [sentry_cli, "debug-files", "upload", folder],
        },
    )
    ctx.notes.setdefault("debug_files.upload", {})["input"] = {
        "files": count,
        "MB": round(size / 1e6, 1),
    }


def _teardown(ctx: Context) -> None:
    server = _STATE.pop("server", None)
    if server is not None:
        server.stop()
    _STATE.clear()


def _variant(tool: str):
    def run(ctx: Context) -> dict:
        from . import bench_artifacts as ba

        server, env, cmd = _STATE["server"], _STATE["env"], _STATE["cmds"][tool]
        shutil.rmtree(env["RELEASETAG_CACHE_DIR"], ignore_errors=True)
        server.call("/__reset__", post=True)
        try:
            first = ba.run(cmd, env)
            sent = server.call("/__stats__")
            again = ba.run(cmd, env)
        except SystemExit as exc:  # bench_artifacts.run's way of reporting a failed tool
            raise RuntimeError(str(exc)) from None
        after = server.call("/__stats__")
        notes = ctx.notes.setdefault("debug_files.upload", {})
        notes.setdefault("fresh: chunks sent (MB)", {})[tool] = (
            f"{sent['chunks']} ({sent['chunk_bytes'] / 1e6:.1f})"
        )
        notes.setdefault("unchanged: chunks sent", {})[tool] = after["chunks"] - sent["chunks"]
        notes.setdefault("fresh: peak RSS MB", {})[tool] = first["peak_rss_mb"]
        return {"fresh": first["wall_s"], "unchanged": again["wall_s"], "fresh_cpu": first["cpu_s"]}

    return run


SCENARIOS = [
    Scenario(
        name="debug_files.upload",
        title="debug-files upload of system ELF libraries, fresh and unchanged (vs sentry-cli)",
        variants={"releasetag": _variant("releasetag"), "sentry_cli": _variant("sentry_cli")},
        metrics={"fresh": "s", "unchanged": "s", "fresh_cpu": "s"},
        reference="sentry_cli",
        repeats=3,
        quick_repeats=1,
        warmup=0,
        setup=_setup,
        teardown=_teardown,
        notes="same files, same local chunk server (bench/chunk_server.py), emptied before "
        "each sample; fresh_cpu: user+system CPU of the uploading process",
    ),
]
