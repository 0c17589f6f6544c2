"""Source bundles for native debug files, in the format symbolic reads (sentry-cli's
``debug-files bundle-sources`` and ``upload --include-sources``).

A source bundle is ``SYSB`` + little-endian u32 ``2`` + a ZIP archive (deflated entries,
1980-01-01 timestamps, mode 0644) holding each source file under ``files/<its path>`` (``:``
before a separator and runs of ``/`` or ``\\`` become one ``/``, the leading ``/`` is
dropped; a second file landing on the same name gets ``.1``, a third ``..2``, as symbolic
names them) and a
``manifest.json``::

    {"files": {"files/src/a.c": {"type": "source", "path": "/src/a.c"}},
     "arch": "x86_64", "code_id": "...", "debug_id": "...", "object_name": "a.out"}

Files are those the debug file's DWARF line programs name (ELF and thin Mach-O) or, for a
PDB, its DBI stream's file info that exist on this machine as regular files; a
file above ``MAX_SOURCE_SIZE`` is left out with a warning, as sentry-cli does. The bundle is
uploaded as a debug file with the object's debug ID; the server tells it apart by ``SYSB``.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, List, Mapping, Optional

from releasetag.build.artifacts.bundle_format import MAGIC, MANIFEST
from releasetag.build.artifacts.formats import DebugObject, FormatError
from releasetag.build.artifacts.walk import open_regular

MAX_SOURCE_SIZE = 1 << 20  # sentry-cli's default maximum for one item of a debug file
_SEPARATORS = re.compile(r":?[/\\]+")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# which debug file formats have their sources read, and why the others do not
UNSUPPORTED = {
    "pe": "PE files carry no source information (their PDB does)",
    "breakpad": "Breakpad files carry no source files",
    "wasm": "wasm files: their DWARF is not read for sources by releasetag (no bundle made)",
}


@dataclass
class SourceBundle:
    """What :func:`make_source_bundle` wrote (``path`` None when no source was found)."""

    path: Optional[str]
    files: List[str] = field(default_factory=list)  # the source paths bundled
    missing: List[str] = field(default_factory=list)  # named by the debug file, not found
    warnings: List[str] = field(default_factory=list)


def bundle_path(path: str) -> str:
    """Where a source path goes in the archive: ``files/`` + the sanitized path."""
    sanitized = _SEPARATORS.sub("/", path)
    return "files/" + (sanitized[1:] if sanitized.startswith("/") else sanitized)


def _unique(name: str, taken: Mapping[str, object]) -> str:
    count = 0
    while name in taken:
        count += 1
        # symbolic's counter: ``.1``, then the digits are replaced behind the dot that stays
        # (``x.c.1`` -> ``x.c..2``); kept so the archive names are sentry-cli's
        name = f"{name}.1" if count == 1 else f"{name.rstrip('0123456789')}.{count}"
    return name


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


def _read_source(path: str, warnings: List[str]) -> Optional[bytes]:
    if path.endswith(".pch"):
        return None
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_SOURCE_SIZE:
                warnings.append(
                    f"{path}: source file of {size} bytes is over {MAX_SOURCE_SIZE}; left out"
                )
                return None
            return fh.read(MAX_SOURCE_SIZE + 1)[: MAX_SOURCE_SIZE + 1]
    except OSError:
        return None


def source_paths(kind: str, debug_path: str) -> List[str]:
    """The source files a debug file names (FormatError for unreadable debug information)."""
    if kind == "pdb":
        from releasetag.build.artifacts.formats.pdb_sources import source_files as pdb_files

        try:
            return pdb_files(debug_path)
        except (struct.error, ValueError, IndexError, OverflowError) as exc:
            raise FormatError(f"cannot read the PDB's file names ({type(exc).__name__})") from None
    if kind not in ("elf", "macho"):
        raise FormatError(UNSUPPORTED.get(kind, f"{kind} files carry no source information"))
    from releasetag.build.artifacts.formats.dwarf import source_files

    with open(debug_path, "rb") as fh:
        return source_files(fh.read())


def write_source_bundle(
    out: BinaryIO, obj: DebugObject, object_name: str, sources: List[str]
) -> SourceBundle:
    """Write the bundle of ``sources`` (those that can be read) for ``obj`` to ``out``."""
    result = SourceBundle(None)
    files: Dict[str, Dict[str, str]] = {}
    out.write(MAGIC)
    with zipfile.ZipFile(out, "w") as zf:
        for path in sources:
            if path.startswith("<") and path.endswith(">"):
                continue
            data = _read_source(path, result.warnings)
            if data is None:
                result.missing.append(path)
                continue
            name = _unique(bundle_path(path), files)
            zf.writestr(_entry(name), data)
            files[name] = {"type": "source", "path": path}
            result.files.append(path)
        manifest: Dict[str, object] = {"files": dict(sorted(files.items()))}
        attributes = {"arch": obj.arch, "debug_id": obj.debug_id or "", "object_name": object_name}
        if obj.code_id:
            attributes["code_id"] = obj.code_id
        manifest.update(sorted(attributes.items()))
        zf.writestr(
            _entry(MANIFEST),
            json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode(),
        )
    return result


def make_source_bundle(
    kind: str, debug_path: str, obj: DebugObject, object_name: str, out_path: str
) -> SourceBundle:
    """Write ``out_path`` for one debug object; no file (``path`` None) when no source
    file was found. FormatError when the debug file's sources cannot be listed."""
    sources = source_paths(kind, debug_path)
    tmp = out_path + ".tmp"
    try:
        with open(tmp, "wb") as out:
            result = write_source_bundle(out, obj, object_name, sources)
        if result.files:
            os.replace(tmp, out_path)
            result.path = out_path
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return result
