"""Native debug files: recognise the format and read type, debug ID, code ID, arch, features.

Formats: ELF, Mach-O (thin and fat), PE, PDB, Breakpad, wasm. Every problem with a file becomes
a one-line ``problem`` on its :class:`DebugFile`; nothing here raises on bad input.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence

from releasetag.build.artifacts.formats import (
    DebugObject,
    FormatError,
    breakpad,
    elf,
    macho,
    pdb,
    pe,
    sourcebundle,
    wasm,
)
from releasetag.build.artifacts.walk import Walk, open_regular, shown, top_problem

# Order matters only for sniffing: the first reader whose ``sniff`` accepts the head wins.
READERS = (
    ("elf", elf),
    ("macho", macho),
    ("pdb", pdb),
    ("pe", pe),
    ("breakpad", breakpad),
    ("wasm", wasm),
    ("sourcebundle", sourcebundle),
)
KINDS = tuple(name for name, _ in READERS)
_HEAD = 64


@dataclass
class DebugFile:
    """What :func:`inspect` found in one file (``objects`` empty when ``problem`` is set)."""

    path: str
    kind: Optional[str] = None
    objects: List[DebugObject] = field(default_factory=list)
    problem: Optional[str] = None

    @property
    def usable(self) -> bool:
        """True when the file has at least one object with a debug ID."""
        return self.problem is None and any(o.debug_id for o in self.objects)

    @property
    def features(self) -> List[str]:
        seen: List[str] = []
        for obj in self.objects:
            seen += [f for f in obj.features if f not in seen]
        return seen

    def as_dict(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "type": self.kind,
            "usable": self.usable,
            "problem": self.problem,
            "features": self.features,
            "objects": [o.as_dict() for o in self.objects],
        }


def sniff(head: bytes) -> Optional[str]:
    """The format name for a file starting with ``head``, or None."""
    for name, reader in READERS:
        if reader.sniff(head):
            return name
    return None


def inspect(path: str, display: Optional[str] = None) -> DebugFile:
    """Read one file; returns a DebugFile whose ``problem`` explains any failure."""
    label = display or path
    try:
        with open_regular(path) as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        return DebugFile(label, problem=f"cannot read file: {exc.strerror or exc}")
    if not head:
        return DebugFile(label, problem="file is empty")
    kind = sniff(head)
    if kind is None:
        known = "ELF, Mach-O, PE, PDB, Breakpad, wasm, source bundle"
        return DebugFile(label, problem=f"not a known debug file format ({known})")
    reader = dict(READERS)[kind]
    try:
        objects = reader.read(path)
    except FormatError as exc:
        return DebugFile(label, kind=kind, problem=str(exc))
    except (OSError, ValueError, IndexError, KeyError, OverflowError) as exc:
        return DebugFile(label, kind=kind, problem=f"corrupt {kind} file ({type(exc).__name__})")
    result = DebugFile(label, kind=kind, objects=objects)
    if not any(o.debug_id for o in objects):
        result.problem = "file has no debug identifier (no build ID / UUID / CodeView record)"
    return result


@contextmanager
def _zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[str]:
    fd, tmp = tempfile.mkstemp(prefix="releasetag-dif-")
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


def materialize(found: "Found") -> "tuple[str, bool]":
    """(path, is_temporary): zip members are extracted to a temp file the caller removes."""
    if found.member is None:
        return found.path, False
    fd, tmp = tempfile.mkstemp(prefix="releasetag-dif-")
    try:
        with (
            os.fdopen(fd, "wb") as out,
            zipfile.ZipFile(found.path) as zf,
            zf.open(found.member) as src,
        ):
            shutil.copyfileobj(src, out, 1 << 20)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp, True


@dataclass
class Found:
    """A file found by :func:`scan`: on disk (``member`` None) or inside a zip archive."""

    path: str
    member: Optional[str]
    info: DebugFile


def scan(paths: Sequence[str], types: Optional[Sequence[str]] = None) -> Iterator[Found]:
    """Every file under ``paths`` (folders walked, each real folder once; zip archives
    opened), inspected.

    Files of a format not in ``types`` are skipped silently; unknown files are yielded with
    their problem only when named directly (not when found while walking a folder). What a
    walk leaves out for a reason (a FIFO or device, a broken link, a loop, a name that is
    not UTF-8) is yielded with that reason as its problem.
    """
    for top in paths:
        why = top_problem(top)
        if why:
            yield Found(top, None, DebugFile(shown(top), problem=why))
            continue
        if not os.path.isdir(top):
            yield from _scan_file(top, types, direct=True)
            continue
        walk = Walk()
        for path in walk.files(top):
            yield from _scan_file(path, types, direct=False)
        for item in walk.skipped:
            yield Found(item.path, None, DebugFile(shown(item.path), problem=item.message))


def _scan_file(path: str, types: Optional[Sequence[str]], direct: bool) -> Iterator[Found]:
    if zipfile.is_zipfile(path) and not _head_is_known(path):
        yield from _scan_zip(path, types)
        return
    info = inspect(path)
    if info.kind is None and not direct:
        return
    if types and info.kind is not None and info.kind not in types:
        return
    yield Found(path, None, info)


def _head_is_known(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return sniff(fh.read(_HEAD)) is not None
    except OSError:
        return False


def _scan_zip(path: str, types: Optional[Sequence[str]]) -> Iterator[Found]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Found(path, None, DebugFile(path, problem=f"cannot open zip archive: {exc}"))
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            shown = f"{path}:{info.filename}"
            try:
                with zf.open(info) as fh:
                    head = fh.read(_HEAD)
            except Exception as exc:  # bad member: report, keep going
                yield Found(
                    path, info.filename, DebugFile(shown, problem=f"cannot read zip member: {exc}")
                )
                continue
            kind = sniff(head)
            if kind is None or (types and kind not in types):
                continue
            with _zip_member(zf, info) as tmp:
                found = inspect(tmp, display=shown)
            yield Found(path, info.filename, found)
