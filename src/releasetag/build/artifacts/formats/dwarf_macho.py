"""The DWARF sections of a thin, little-endian Mach-O file (a dSYM's DWARF file or an
executable that carries its own ``__DWARF`` segment), handed to pyelftools' DWARFInfo."""

from __future__ import annotations

import io
import struct
from typing import Any, Dict, Optional, Tuple

from releasetag.build.artifacts.formats import FormatError

_LC_SEGMENT, _LC_SEGMENT_64 = 0x1, 0x19
# Mach-O section names (16 bytes at most) -> DWARFInfo's keyword arguments
_SECTIONS = {
    "__debug_info": "debug_info_sec",
    "__debug_aranges": "debug_aranges_sec",
    "__debug_abbrev": "debug_abbrev_sec",
    "__debug_frame": "debug_frame_sec",
    "__debug_str": "debug_str_sec",
    "__debug_loc": "debug_loc_sec",
    "__debug_ranges": "debug_ranges_sec",
    "__debug_line": "debug_line_sec",
    "__debug_addr": "debug_addr_sec",
    "__debug_str_offs": "debug_str_offsets_sec",
    "__debug_line_str": "debug_line_str_sec",
    "__debug_loclists": "debug_loclists_sec",
    "__debug_rnglists": "debug_rnglists_sec",
}
_ARGS = ("debug_pubtypes_sec", "debug_pubnames_sec", "debug_sup_sec", "gnu_debugaltlink_sec",
         "debug_types_sec", "eh_frame_sec")  # fmt: skip


def _dwarf_sections(data: bytes) -> Tuple[bool, Dict[str, Tuple[int, int, int]]]:
    """(64-bit, {name: (file offset, size, address)}) of the ``__DWARF`` segment."""
    is64 = data[:4] == b"\xcf\xfa\xed\xfe"
    hsize = 32 if is64 else 28
    if len(data) < hsize:
        raise FormatError("the Mach-O header is truncated")
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    if hsize + sizeofcmds > len(data):
        raise FormatError("the Mach-O load commands run past the end of the file")
    found: Dict[str, Tuple[int, int, int]] = {}
    pos = hsize
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if size < 8 or pos + size > hsize + sizeofcmds:
            raise FormatError("a Mach-O load command has a bad size")
        if cmd in (_LC_SEGMENT, _LC_SEGMENT_64):
            head, entry = (72, 80) if cmd == _LC_SEGMENT_64 else (56, 68)
            nsects = struct.unpack_from("<I", data, pos + head - 8)[0]
            for i in range(nsects):
                at = pos + head + i * entry
                if at + entry > pos + size:
                    break
                name = data[at : at + 16].rstrip(b"\0").decode("latin-1")
                segment = data[at + 16 : at + 32].rstrip(b"\0").decode("latin-1")
                if cmd == _LC_SEGMENT_64:
                    addr, length, offset = struct.unpack_from("<QQI", data, at + 32)
                else:
                    addr, length, offset = struct.unpack_from("<III", data, at + 32)
                if segment == "__DWARF" and name in _SECTIONS:
                    found[name] = (offset, length, addr)
        pos += size
    return is64, found


def macho_dwarf(data: bytes) -> Optional[Any]:
    """pyelftools' DWARFInfo over the file's ``__DWARF`` sections (None without them)."""
    from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

    is64, found = _dwarf_sections(data)
    if "__debug_info" not in found or "__debug_line" not in found:
        return None
    args: Dict[str, Any] = {key: None for key in list(_SECTIONS.values()) + list(_ARGS)}
    for name, (offset, length, addr) in found.items():
        if offset + length > len(data):
            raise FormatError(f"the Mach-O section {name} runs past the end of the file")
        stream = io.BytesIO(data[offset : offset + length])
        args[_SECTIONS[name]] = DebugSectionDescriptor(stream, name, offset, length, addr)
    config = DwarfConfig(little_endian=True, machine_arch="AArch64" if is64 else "ARM",
                         default_address_size=8 if is64 else 4)  # fmt: skip
    return DWARFInfo(config=config, **args)
