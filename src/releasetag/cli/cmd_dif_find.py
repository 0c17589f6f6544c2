"""``releasetag debug-files find ID...``: where the debug files with these debug IDs are, under
the current folder (unless ``--no-cwd``), the folders given with ``-p`` and, as sentry-cli
does, Xcode's ``~/Library/Developer/Xcode/DerivedData`` when it exists (unless
``--no-well-known``, or ``-t`` leaves out ``dsym``). Output and exit codes as sentry-cli's:
``ID PATH [TYPE]`` per file found; the IDs not found on stderr and exit 1; a malformed ID is a
usage error (exit 2). Unlike sentry-cli, debug files inside zip archives are found too, shown
as ``archive.zip/inner/path``."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Dict, List

# sentry-cli's names for the formats (Mach-O debug files are dSYMs there)
TYPE_NAMES = {"macho": "dsym", "elf": "elf", "pe": "pe", "pdb": "pdb", "breakpad": "breakpad",
              "wasm": "wasm", "sourcebundle": "sourcebundle"}  # fmt: skip
DERIVED_DATA = ("Library", "Developer", "Xcode", "DerivedData")
_ID = re.compile(
    r"^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})(?:-?([0-9a-f]+))?$"
)


def debug_id(text: str) -> str:
    """A debug ID as the readers print it: dashed UUID form, lower case, an age kept."""
    m = _ID.match(text.strip().lower())
    if not m:
        raise argparse.ArgumentTypeError(f"invalid debug identifier {text!r}")
    return "-".join(m.groups()[:5]) + (f"-{m.group(6)}" if m.group(6) else "")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="+", type=debug_id, metavar="ID", help="debug identifiers")
    p.add_argument(
        "-t",
        "--type",
        dest="types",
        action="append",
        choices=sorted(set(TYPE_NAMES.values())),
        help="only this type (repeatable)",
    )
    p.add_argument(
        "-p",
        "--path",
        dest="paths",
        action="append",
        default=[],
        metavar="PATH",
        help="also search this folder (repeatable)",
    )
    p.add_argument("--no-cwd", action="store_true", help="do not search the current folder")
    p.add_argument(
        "--no-well-known",
        action="store_true",
        help="do not search Xcode's DerivedData folder",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_find)  # fmt: skip


def _strip_age(value: str) -> str:
    return value[:36]


def _shown(item: Any) -> str:
    """The absolute path of a file found; ``archive.zip/inner/path`` for a zip member."""
    path = os.path.abspath(item.path)
    return path if item.member is None else f"{path}/{item.member}"


def cmd_find(args: argparse.Namespace) -> int:
    from releasetag.build.artifacts.debugfiles import scan

    roots = list(args.paths) + ([] if args.no_cwd else [os.getcwd()])
    derived = os.path.join(os.path.expanduser("~"), *DERIVED_DATA)
    if not args.no_well_known and (not args.types or "dsym" in args.types):
        roots += [derived] if os.path.isdir(derived) else []
    wanted = {_strip_age(i): i for i in args.ids}
    kinds = [k for k, name in TYPE_NAMES.items() if not args.types or name in args.types]
    found: List[Dict[str, Any]] = []
    for item in scan(roots, types=kinds):
        info = item.info
        if info.problem:
            continue
        for obj in info.objects:
            ident = str(obj.debug_id or "").lower()
            if _strip_age(ident) in wanted:
                entry = {"type": TYPE_NAMES.get(str(info.kind), info.kind), "id": ident,
                         "path": _shown(item)}  # fmt: skip
                if entry not in found:
                    found.append(entry)
    if args.json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        for f in found:
            sys.stdout.write(f"{f['id']} {f['path']} [{f['type']}]\n")
    missing = [v for k, v in wanted.items() if not any(_strip_age(f["id"]) == k for f in found)]
    if missing:
        sys.stderr.write("missing debug information files:\n")
        sys.stderr.write("".join(f"  {m}\n" for m in missing))
        return 1
    return 0
