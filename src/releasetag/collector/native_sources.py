"""File, line and source context for native frames: the DWARF line tables of an uploaded ELF
debug file, and the source bundles uploaded for the same debug ID (``debug-files upload
--include-sources`` of releasetag or sentry-cli).

After ``native.NativeResolver`` has named a frame from its debug file, ``locate`` looks the
address up in the file's line table (cached per debug file, like its symbols): the frame gets
``abs_path``, ``filename`` and ``lineno``. Then the newest source bundle of the project with
the image's debug ID that holds that path gives ``pre_context``, ``context_line`` and
``post_context`` (5 lines each side, as for JavaScript frames). A caller frame's address is a
return address: one is taken off before the lookup (the crashing frame, the last one, is
looked up as it is), as Sentry's symbolicator does. Each step lands in the frame's
``data.resolution.steps``.

Source bundles: ``SYSB`` + version 2 + a ZIP with ``manifest.json`` (see
``build/artifacts/source_bundle.py``); one is recognised at upload by its header
(``describe_bundle``) and stored as a debug file of kind ``sourcebundle``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from typing import Any, Callable, Dict, List, Optional

from releasetag.build.artifacts.bundle_format import (
    MANIFEST,
    SIGNATURE,
    BundleError,
    parse_manifest,
    zip_payload,
)

from .unminify import CONTEXT_LINES, MapCache

KIND = "sourcebundle"
# what reading a damaged ZIP can raise (a bad CRC, deflate stream, method or password)
_ZIP_ERRORS = (BundleError, zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError,
               RuntimeError, NotImplementedError, zlib.error)  # fmt: skip
MAX_SOURCE = 8 << 20  # bytes read from one bundled source file


def describe_bundle(data: bytes) -> Optional[Dict[str, Any]]:
    """Debug-file fields of a source bundle's bytes (None when they are not one)."""
    if data[:4] != SIGNATURE:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(zip_payload(data))) as zf:
            manifest = parse_manifest(zf.read(MANIFEST))
    except _ZIP_ERRORS:
        return None
    info: Dict[str, Any] = {"kind": KIND}
    for key, field in (("debug_id", "debug_id"), ("code_id", "code_id"), ("arch", "cpu_name")):
        if isinstance(manifest.get(key), str) and manifest[key]:
            info[field] = manifest[key].lower() if key == "debug_id" else manifest[key]
    if isinstance(manifest.get("object_name"), str):
        info["object_name"] = manifest["object_name"][:500]
    return info


class BundleSources:
    """One source bundle: its files by original path, their lines read when first asked."""

    __slots__ = ("data", "names", "lines", "size", "problem")

    def __init__(self, data: Optional[bytes]) -> None:
        self.data = b""
        self.names: Dict[str, str] = {}
        self.lines: Dict[str, List[str]] = {}
        self.problem: Optional[str] = None
        try:
            if data is None:
                raise BundleError("the source bundle's bytes are gone")
            self.data = zip_payload(data)
            with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
                manifest = parse_manifest(zf.read(MANIFEST))
            for name, entry in (manifest.get("files") or {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    self.names.setdefault(entry["path"], name)
        except _ZIP_ERRORS as exc:
            self.problem = f"the source bundle cannot be read ({str(exc)[:160]})"
        self.size = 200 + len(self.data) + 100 * len(self.names)

    def source_lines(self, path: str) -> Optional[List[str]]:
        name = self.names.get(path) or self.names.get(posixpath.normpath(path))
        if name is None:
            return None
        if name not in self.lines:
            try:
                with zipfile.ZipFile(io.BytesIO(self.data)) as zf, zf.open(name) as fh:
                    text = fh.read(MAX_SOURCE).decode("utf-8", "replace")
            except _ZIP_ERRORS:
                return None
            self.lines[name] = text.splitlines()
            self.size += len(text) + 60 * len(self.lines[name])
        return self.lines[name]


def _loader(store: Any, file_id: int) -> Callable[[], BundleSources]:
    return lambda: BundleSources(store.debug_file_data(file_id))


def locate(
    store: Any,
    cache: MapCache,
    project_id: int,
    row: Any,
    frame: Dict[str, Any],
    relative: int,
    caller: bool,
    steps: List[str],
) -> None:
    """Fill ``frame``'s file, line and context for ``relative`` (an address in the debug
    file's space) from ``row``'s line table and the project's source bundles."""
    from releasetag.build.artifacts.formats.dwarf import LineTable

    table = cache.get(("lines", row["id"]), lambda: LineTable(store.debug_file_data(row["id"])))
    if table.problem:
        steps.append(f"{row['name']}: no file and line ({table.problem})")
        return
    found = table.lookup(relative - 1 if caller and relative > 0 else relative)
    if found is None:
        steps.append(f"{row['name']}: no line table row holds {relative:#x}")
        return
    path, line = found
    frame["abs_path"] = path
    frame["filename"] = posixpath.basename(path)
    frame["lineno"] = line
    steps.append(f"file and line from {row['name']}'s DWARF line table: {path}:{line}")
    bundles = [
        r
        for r in store.debug_files_by_debug_id(project_id, str(row["debug_id"] or ""))
        if r["kind"] == KIND
    ]
    if not bundles:
        steps.append(f"no source bundle uploaded for debug ID {row['debug_id']}")
        return
    for bundle in reversed(bundles):  # the newest first
        sources = cache.get((KIND, bundle["id"]), _loader(store, bundle["id"]))
        lines = None if sources.problem else sources.source_lines(path)
        if lines is None:
            continue
        if 0 < line <= len(lines):
            i = line - 1
            frame["pre_context"] = lines[max(0, i - CONTEXT_LINES) : i]
            frame["context_line"] = lines[i]
            frame["post_context"] = lines[i + 1 : i + 1 + CONTEXT_LINES]
            steps.append(f"source context from the source bundle {bundle['name']}")
        else:
            steps.append(f"{path} in the source bundle {bundle['name']} has no line {line}")
        return
    steps.append(f"{path} is in none of the {len(bundles)} source bundle(s) for this debug ID")
