"""One small reader per debug file format; each exposes ``sniff(head)`` and ``read(path)``.

``read`` returns a list of :class:`DebugObject` (a fat Mach-O holds several) or raises
:class:`FormatError` with a message fit for a user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Dict, Iterable, List, Optional

from releasetag.protocol.errors import ArtifactError


class FormatError(ArtifactError):
    """A file is not a valid file of the format it claims to be (truncated, corrupt...)."""


@dataclass
class DebugObject:
    """One object in a debug file: what the server needs to match it to a crash."""

    kind: str  # elf, macho, pe, pdb, breakpad, wasm
    file_type: str  # executable, library, debug companion, object, ...
    debug_id: Optional[str]
    code_id: Optional[str]
    arch: str
    features: List[str] = field(default_factory=list)
    name: Optional[str] = None  # debug file name a PE points at, Breakpad module name...

    def as_dict(self) -> Dict[str, Any]:
        return {
            "type": self.kind,
            "file_type": self.file_type,
            "debug_id": self.debug_id,
            "code_id": self.code_id,
            "arch": self.arch,
            "features": list(self.features),
            "name": self.name,
        }


FEATURE_ORDER = ("symtab", "debug", "unwind", "sources")


def ordered(features: Iterable[str]) -> List[str]:
    """Features in the conventional order (symtab, debug, unwind, sources)."""
    return [f for f in FEATURE_ORDER if f in set(features)]


def debug_id(uuid_bytes: bytes, appendix: int = 0, little_endian: bool = False) -> str:
    """Format 16 bytes (+ age) as a debug ID: ``uuid`` or ``uuid-<age hex>``.

    ``little_endian`` reads the bytes as a Windows GUID (fields 1-3 byte-swapped), which is
    also how ELF build IDs of little-endian files are turned into debug IDs.
    """
    raw = bytes(uuid_bytes[:16]).ljust(16, b"\0")
    text = str(uuid.UUID(bytes_le=raw) if little_endian else uuid.UUID(bytes=raw))
    return f"{text}-{appendix:x}" if appendix else text


def read_exact(fh: BinaryIO, offset: int, size: int, what: str) -> bytes:
    """Read ``size`` bytes at ``offset`` or raise FormatError naming ``what``."""
    if offset < 0 or size < 0:
        raise FormatError(f"bad offset for {what}")
    import os

    end = os.fstat(fh.fileno()).st_size if hasattr(fh, "fileno") else None
    if end is not None and offset + size > end:  # a size field larger than the file
        raise FormatError(f"file is truncated ({what} at offset {offset} is cut off)")
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise FormatError(f"file is truncated ({what} at offset {offset} is cut off)")
    return data
