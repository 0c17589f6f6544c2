"""``releasetag debug-files check|upload``: native debug files (ELF, Mach-O, PE, PDB, Breakpad,
wasm) identified and uploaded through the chunk protocol."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, List, Tuple

from releasetag.protocol.errors import ReleasetagError

from .apiargs import (
    add_api_arguments,
    add_config_flags,
    allow_failure,
    api_command,
    client_from_args,
)
from .output import emit, error, safe, warn
from .progress import progress_bar

TYPES = ("elf", "macho", "pe", "pdb", "breakpad", "wasm", "sourcebundle")


def register(sub: Any) -> None:
    grp = sub.add_parser("debug-files", help="check and upload native debug files")
    add_config_flags(grp)
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="debug_files_command", metavar="ACTION")

    p = actions.add_parser("check", help="show what a debug file contains")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_check)

    p = actions.add_parser("upload", help="upload debug files (folders and zip files scanned)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "-t",
        "--type",
        dest="types",
        action="append",
        choices=TYPES,
        help="only files of this type (repeatable)",
    )
    p.add_argument(
        "--wait", action="store_true", help="wait until the server has processed the files"
    )
    p.add_argument(
        "--include-sources",
        action="store_true",
        help="also upload a source bundle per debug file: the source files its debug "
        "information names (ELF, thin Mach-O, PDB), read from this machine",
    )
    add_api_arguments(p)
    p.set_defaults(func=cmd_upload)

    p = actions.add_parser("find", help="locate debug files by debug ID")
    from . import cmd_dif_find

    cmd_dif_find.add_arguments(p)

    p = actions.add_parser("bundle-sources", help="make a source bundle for debug files")
    from . import cmd_dif_sources

    cmd_dif_sources.add_bundle_arguments(p)


def _describe(found: Any) -> str:
    lines = [found.path]
    if found.problem:
        kind = f"{found.kind}: " if found.kind else ""
        lines.append(f"  problem: {kind}{found.problem}")
        return "\n".join(lines)
    first = found.objects[0]
    lines.append(f"  type: {found.kind} {first.file_type}")
    for obj in found.objects:
        lines.append(f"  > debug id: {obj.debug_id or '-'}")
        lines.append(f"    code id:  {obj.code_id or '-'}")
        lines.append(f"    arch:     {obj.arch}")
        if obj.name:
            lines.append(f"    name:     {obj.name}")
    lines.append(f"  features: {', '.join(found.features) or 'none'}")
    lines.append(f"  usable: {'yes' if found.usable else 'no'}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    from releasetag.build.artifacts.debugfiles import inspect

    results = [inspect(p) for p in args.paths]
    if getattr(args, "json", False):
        data: Any = [r.as_dict() for r in results]
        emit(args, data[0] if len(data) == 1 else data)
    else:
        sys.stdout.write("\n".join(_describe(r) for r in results) + "\n")
    for r in results:
        if r.problem and not getattr(args, "json", False):
            sys.stderr.write(f"error: {r.path}: {r.problem}\n")
    return 0 if all(r.usable for r in results) else 1


def _triage(
    found: List[Any], paths: List[str], skipped: List[Dict[str, Any]]
) -> Tuple[List[Any], bool]:
    """(the files to upload, True when one is an error); the others land in ``skipped``: an
    error for a file named or a corrupt one, a warning for one found walking."""
    failed = False
    usable = []
    for item in found:
        info = item.info
        direct = item.path in paths and item.member is None
        if info.usable:
            usable.append(item)
            continue
        reason = info.problem or "no debug identifier"
        corrupt = info.kind is not None and "no debug identifier" not in reason
        if direct or corrupt:
            sys.stderr.write(f"error: {info.path}: {reason}\n")
            failed = True
        else:
            warn(f"skipped {info.path}: {reason}")
        skipped.append({"path": info.path, "reason": reason})
    return usable, failed


@api_command
def cmd_upload(args: argparse.Namespace) -> int:
    from releasetag.build.artifacts.debugfiles import materialize, scan
    from releasetag.build.artifacts.upload import (
        DifToUpload,
        get_chunk_options,
        upload_difs,
    )

    from .cmd_dif_sources import SourceBundler

    bundler = SourceBundler() if args.include_sources else None
    skipped: List[Dict[str, Any]] = []
    usable, failed = _triage(list(scan(args.paths, types=args.types)), args.paths, skipped)
    client = client_from_args(args)
    config = client.config
    org, project = config.require_org(), config.require_project()
    results: List[dict] = []
    with client:
        options = get_chunk_options(client, org) if usable else None
        if usable and options is None:
            raise ReleasetagError(
                "this server offers no chunk upload, which debug file upload needs"
            )
        difs: List[DifToUpload] = []
        try:
            for item in usable:  # zip members are extracted to temp files (removed below)
                objects = item.info.objects
                path, temp = materialize(item)
                difs.append(
                    DifToUpload(
                        os.path.basename(item.member or item.path),
                        path,
                        objects[0].debug_id if len(objects) == 1 else None,
                        extra={"path": item.info.path, "temp": temp},
                    )
                )
                source = bundler.bundle(item, path) if bundler else None
                if source is not None:
                    shown = {"path": f"{item.info.path} (sources)"}
                    difs.append(DifToUpload(difs[-1].name, source, difs[-1].debug_id, extra=shown))
            if difs and options is not None:
                upload_difs(
                    client,
                    options,
                    org,
                    project,
                    difs,
                    wait=args.wait,
                    progress=progress_bar(args, "uploading chunks"),
                )
        except OSError as exc:
            raise ReleasetagError(f"cannot read a debug file: {exc}") from None
        finally:
            for dif in difs:
                if dif.extra.pop("temp", False):
                    os.unlink(dif.path)
            if bundler:
                bundler.close()
        for dif in difs:
            results.append(dif.as_dict())
            if dif.state in ("error", "not_found"):
                error(f"{dif.extra['path']}: {dif.state}{': ' + dif.detail if dif.detail else ''}")
                failed = True
    if getattr(args, "json", False):
        emit(args, {"uploaded": results, "skipped": skipped})
    else:
        for r in results:
            if r["state"] not in ("error", "not_found"):
                sys.stdout.write(
                    f"{r['debug_id'] or '-':<40} {r['path']}: {safe(r['state'])}"
                    f"{' (sent)' if r['uploaded'] else ' (already on server)'}\n"
                )
        sys.stdout.write(f"> {len(results)} debug file(s) processed, {len(skipped)} skipped\n")
    if failed and allow_failure(args):
        warn("some files could not be uploaded (ignored: --allow-failure)")
        return 0
    return 1 if failed else 0
