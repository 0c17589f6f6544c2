"""PE (Windows executables and DLLs): debug ID from the CodeView RSDS record."""

from __future__ import annotations

import struct
from typing import Any, List, Optional, Tuple

from releasetag.build.artifacts.formats import DebugObject, FormatError, debug_id, ordered

_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0xAA64: "arm64", 0x1C0: "arm", 0x1C4: "arm"}
_IMAGE_DEBUG_TYPE_CODEVIEW = 2


def sniff(head: bytes) -> bool:
    if head[:2] != b"MZ" or len(head) < 0x40:
        return False
    return True


def _codeview(pe: Any) -> Optional[Tuple[bytes, int, str]]:
    for entry in getattr(pe, "DIRECTORY_ENTRY_DEBUG", []) or []:
        if entry.struct.Type != _IMAGE_DEBUG_TYPE_CODEVIEW:
            continue
        offset, size = entry.struct.PointerToRawData, entry.struct.SizeOfData
        raw = pe.__data__[offset : offset + size]
        if len(raw) >= 24 and raw[:4] == b"RSDS":
            guid = bytes(raw[4:20])
            age = struct.unpack("<I", raw[20:24])[0]
            name = bytes(raw[24:]).split(b"\0", 1)[0].decode("utf-8", "replace")
            return guid, age, name
    return None


def read(path: str) -> List[DebugObject]:
    try:
        import pefile
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FormatError(
            "reading PE files needs pefile: pip install 'releasetag[artifacts]'"
        ) from exc
    try:
        pe = pefile.PE(path, fast_load=True)
        pe.parse_data_directories(
            directories=[
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DEBUG"],
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"],
            ]
        )
    except pefile.PEFormatError as exc:
        raise FormatError(f"not a valid PE file ({exc.value})") from None
    except Exception as exc:
        raise FormatError(
            f"not a valid PE file (truncated or corrupt: {type(exc).__name__})"
        ) from None
    try:
        fh = pe.FILE_HEADER
        opt = pe.OPTIONAL_HEADER
        cv = _codeview(pe)
        ident = debug_id(cv[0], cv[1], little_endian=True) if cv else None
        code_id = f"{fh.TimeDateStamp:08x}{opt.SizeOfImage:x}"
        is_dll = bool(fh.Characteristics & 0x2000)
        feats = []
        exports = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
        if exports is not None and exports.symbols:
            feats.append("symtab")
        exc_dir = opt.DATA_DIRECTORY[3] if len(opt.DATA_DIRECTORY) > 3 else None
        if exc_dir is not None and exc_dir.Size:
            feats.append("unwind")
        return [
            DebugObject(
                "pe",
                "library" if is_dll else "executable",
                ident,
                code_id,
                _MACHINES.get(fh.Machine, "unknown"),
                ordered(feats),
                name=cv[2] if cv else None,
            )
        ]
    finally:
        pe.close()
