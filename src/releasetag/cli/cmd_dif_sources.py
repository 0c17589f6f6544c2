"""Source bundles from the CLI: ``debug-files bundle-sources PATH...`` and the bundles
``debug-files upload --include-sources`` adds to an upload (one per debug file whose DWARF
names source files found on this machine). The format is in
``build/artifacts/source_bundle.py``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any, List, Optional

from releasetag.protocol.errors import ReleasetagError

from .output import warn


def add_bundle_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="debug files")
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="the folder for the bundles (default: beside each file)",
    )
    p.set_defaults(func=cmd_bundle_sources)


def bundle_name(path: str) -> str:
    """``a.out`` -> ``a.src.zip``, ``libx.so.1`` -> ``libx.so.src.zip`` (the last extension
    replaced, as sentry-cli names them)."""
    base = os.path.basename(path)
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    return stem + ".src.zip"


def cmd_bundle_sources(args: argparse.Namespace) -> int:
    from releasetag.build.artifacts.debugfiles import inspect
    from releasetag.build.artifacts.formats import FormatError
    from releasetag.build.artifacts.source_bundle import make_source_bundle

    if args.output and not os.path.isdir(args.output):
        try:
            os.makedirs(args.output, exist_ok=True)
        except OSError as exc:
            raise ReleasetagError(f"cannot create {args.output}: {exc.strerror}") from None
    failed = False
    for path in args.paths:
        found = inspect(path)
        if found.problem or not found.objects:
            sys.stderr.write(f"error: {path}: {found.problem or 'not a debug file'}\n")
            failed = True
            continue
        folder = args.output or os.path.dirname(os.path.abspath(path))
        out = os.path.join(folder, bundle_name(path))
        try:
            result = make_source_bundle(
                str(found.kind), path, found.objects[0], os.path.basename(path), out
            )
        except FormatError as exc:
            warn(f"skipped {path} ({exc})")
            continue
        except OSError as exc:
            raise ReleasetagError(f"cannot write {out}: {exc.strerror or exc}") from None
        for line in result.warnings:
            warn(line)
        if result.path is None:
            sys.stderr.write(f"skipped {path} (no files found)\n")
            continue
        sys.stdout.write(result.path + "\n")
    return 1 if failed else 0


class SourceBundler:
    """Makes the source bundles of an upload in one temporary folder (removed by ``close``)
    and says once per format why files of that format get none."""

    def __init__(self) -> None:
        self.folder: Optional[str] = None
        self.said: List[str] = []
        self.made = 0

    def bundle(self, item: Any, path: str) -> Optional[str]:
        """The bundle for the debug file ``item`` (read from ``path``), or None."""
        from releasetag.build.artifacts.formats import FormatError
        from releasetag.build.artifacts.source_bundle import UNSUPPORTED, make_source_bundle

        info = item.info
        kind = str(info.kind)
        if kind == "sourcebundle":  # a bundle found among the files goes up as it is
            return None
        if kind in UNSUPPORTED or len(info.objects) != 1:
            if kind not in self.said:
                self.said.append(kind)
                fat = "fat Mach-O files: sources are read from thin files (or dSYMs) only"
                warn(f"--include-sources: {UNSUPPORTED.get(kind, fat)}")
            return None
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="releasetag-sources-")
        name = os.path.basename(item.member or item.path)
        out = os.path.join(self.folder, f"{self.made}-{bundle_name(name)}")
        try:
            result = make_source_bundle(kind, path, info.objects[0], name, out)
        except FormatError as exc:
            warn(f"--include-sources: {info.path}: {exc}")
            return None
        for line in result.warnings:
            warn(line)
        if result.path is None:
            warn(f"--include-sources: {info.path}: no source files found on this machine")
            return None
        self.made += 1
        return result.path

    def close(self) -> None:
        if self.folder is not None:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
