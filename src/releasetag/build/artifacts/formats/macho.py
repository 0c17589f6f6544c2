"""Mach-O, thin and fat: debug ID from LC_UUID, one object per architecture."""

from __future__ import annotations

import struct
from typing import BinaryIO, List, Optional, Tuple

from releasetag.build.artifacts.formats import (
    DebugObject,
    FormatError,
    debug_id,
    ordered,
    read_exact,
)

_THIN = {
    b"\xfe\xed\xfa\xce": (">", 32),
    b"\xce\xfa\xed\xfe": ("<", 32),
    b"\xfe\xed\xfa\xcf": (">", 64),
    b"\xcf\xfa\xed\xfe": ("<", 64),
}
_FAT = {b"\xca\xfe\xba\xbe": 32, b"\xca\xfe\xba\xbf": 64}

LC_SEGMENT, LC_SYMTAB, LC_SEGMENT_64, LC_UUID = 0x1, 0x2, 0x19, 0x1B
_FILETYPES = {
    1: "relocatable",
    2: "executable",
    4: "core dump",
    6: "library",
    7: "dyld",
    8: "library",
    9: "library stub",
    0xA: "debug companion",
}
_ARM_SUB = {
    5: "armv4t",
    6: "armv6",
    7: "armv5",
    9: "armv7",
    10: "armv7f",
    11: "armv7s",
    12: "armv7k",
    14: "armv6m",
    15: "armv7m",
    16: "armv7em",
}


def sniff(head: bytes) -> bool:
    if head[:4] in _THIN:
        return True
    if head[:4] in _FAT and len(head) >= 8:
        # 0xcafebabe is also a Java class file; there the next word is a version (>= 45)
        return 0 < struct.unpack(">I", head[4:8])[0] < 45
    return False


def arch_name(cputype: int, subtype: int) -> str:
    sub = subtype & 0x00FFFFFF
    if cputype == 7:
        return "x86"
    if cputype == 0x01000007:
        return "x86_64h" if sub == 8 else "x86_64"
    if cputype == 12:
        return _ARM_SUB.get(sub, "arm")
    if cputype == 0x0100000C:
        return "arm64e" if sub == 2 else "arm64"
    if cputype == 0x0200000C:
        return "arm64_32"
    if cputype == 18:
        return "ppc"
    if cputype == 0x01000012:
        return "ppc64"
    return "unknown"


def _read_thin(fh: BinaryIO, base: int, size: Optional[int]) -> DebugObject:
    magic = read_exact(fh, base, 4, "Mach-O header")
    if magic not in _THIN:
        raise FormatError(f"no Mach-O header at offset {base}")
    end, bits = _THIN[magic]
    hsize = 28 if bits == 32 else 32
    header = read_exact(fh, base, hsize, "Mach-O header")
    cputype, subtype, filetype, ncmds, sizeofcmds = struct.unpack(end + "iiIII", header[4:24])
    if size is not None and hsize + sizeofcmds > size:
        raise FormatError("Mach-O load commands run past the end of the slice")
    cmds = read_exact(fh, base + hsize, sizeofcmds, "Mach-O load commands")
    uuid_bytes: Optional[bytes] = None
    sections: List[Tuple[str, str]] = []
    nsyms = 0
    pos = 0
    for _ in range(ncmds):
        if pos + 8 > len(cmds):
            raise FormatError("Mach-O load commands are truncated")
        cmd, cmdsize = struct.unpack(end + "II", cmds[pos : pos + 8])
        if cmdsize < 8 or pos + cmdsize > len(cmds):
            raise FormatError("Mach-O load command has a bad size")
        body = cmds[pos : pos + cmdsize]
        if cmd == LC_UUID and cmdsize >= 24:
            uuid_bytes = body[8:24]
        elif cmd == LC_SYMTAB and cmdsize >= 24:
            nsyms = struct.unpack(end + "I", body[12:16])[0]
        elif cmd in (LC_SEGMENT, LC_SEGMENT_64):
            sections.extend(_sections(body, end, cmd == LC_SEGMENT_64))
        pos += cmdsize
    names = {sect for _seg, sect in sections}
    feats = []
    if nsyms:
        feats.append("symtab")
    if "__debug_info" in names:
        feats.append("debug")
    if names & {"__eh_frame", "__unwind_info", "__debug_frame"}:
        feats.append("unwind")
    return DebugObject(
        kind="macho",
        file_type=_FILETYPES.get(filetype, "other"),
        debug_id=debug_id(uuid_bytes) if uuid_bytes else None,
        code_id=uuid_bytes.hex() if uuid_bytes else None,
        arch=arch_name(cputype, subtype),
        features=ordered(feats),
    )


def _sections(body: bytes, end: str, is64: bool) -> List[Tuple[str, str]]:
    if is64:
        head, nsects_at, sect_size, size_off, fmt = 72, 64, 80, 40, "Q"
    else:
        head, nsects_at, sect_size, size_off, fmt = 56, 48, 68, 36, "I"
    if len(body) < head:
        return []
    nsects = struct.unpack(end + "I", body[nsects_at : nsects_at + 4])[0]
    out = []
    for i in range(nsects):
        off = head + i * sect_size
        if off + sect_size > len(body):
            break
        sect = body[off : off + 16].rstrip(b"\0").decode("latin-1")
        seg = body[off + 16 : off + 32].rstrip(b"\0").decode("latin-1")
        size = struct.unpack_from(end + fmt, body, off + size_off)[0]
        file_offset = struct.unpack_from(end + "I", body, off + size_off + struct.calcsize(fmt))[0]
        # a dSYM keeps the executable's section headers without their data (offset 0)
        if size and (file_offset or seg == "__DWARF"):
            out.append((seg, sect))
    return out


def read(path: str) -> List[DebugObject]:
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head[:4] in _THIN:
            return [_read_thin(fh, 0, None)]
        if head[:4] not in _FAT or len(head) < 8:
            raise FormatError("not a Mach-O file")
        is64 = _FAT[head[:4]] == 64
        count = struct.unpack(">I", head[4:8])[0]
        entry = 32 if is64 else 20
        table = read_exact(fh, 8, count * entry, "fat architecture table")
        objects = []
        for i in range(count):
            if is64:
                _ct, _st, offset, size = struct.unpack_from(">iiQQ", table, i * entry)
            else:
                _ct, _st, offset, size = struct.unpack_from(">iiII", table, i * entry)
            objects.append(_read_thin(fh, offset, size))
        return objects
