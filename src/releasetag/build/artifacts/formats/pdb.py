"""PDB (MSF 7.0): debug ID from the GUID of the PDB info stream and the DBI age."""

from __future__ import annotations

import struct
from typing import BinaryIO, List, Optional

from releasetag.build.artifacts.formats import (
    DebugObject,
    FormatError,
    debug_id,
    ordered,
    read_exact,
)

MAGIC = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0"
OLD_MAGIC = b"Microsoft C/C++ program database 2.00\r\n"
_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0xAA64: "arm64", 0x1C0: "arm", 0x1C4: "arm"}
_NIL = 0xFFFFFFFF


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC) or head.startswith(OLD_MAGIC)


class _Msf:
    """Just enough of the multi-stream file format to read whole streams."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        sb = read_exact(fh, 0, 56, "MSF superblock")
        if not sb.startswith(MAGIC):
            raise FormatError("old PDB 2.0 format is not supported")
        (self.block_size, _free, self.num_blocks, dir_bytes, _unk, dir_map) = struct.unpack_from(
            "<6I", sb, 32
        )
        if self.block_size not in (512, 1024, 2048, 4096) or not dir_bytes:
            raise FormatError("PDB superblock is corrupt")
        n_dir_blocks = -(-dir_bytes // self.block_size)
        map_raw = self._block(dir_map)[: 4 * n_dir_blocks]
        if len(map_raw) < 4 * n_dir_blocks:
            raise FormatError("PDB stream directory map is corrupt")
        dir_blocks = struct.unpack(f"<{n_dir_blocks}I", map_raw)
        directory = b"".join(self._block(b) for b in dir_blocks)[:dir_bytes]
        if len(directory) < 4:
            raise FormatError("PDB stream directory is truncated")
        count = struct.unpack_from("<I", directory)[0]
        if 4 + 4 * count > len(directory):
            raise FormatError("PDB stream directory is truncated")
        sizes = struct.unpack_from(f"<{count}I", directory, 4)
        pos = 4 + 4 * count
        self.streams: List[Optional[List[int]]] = []
        self.sizes = []
        for size in sizes:
            if size == _NIL:
                self.streams.append(None)
                self.sizes.append(0)
                continue
            n = -(-size // self.block_size)
            if pos + 4 * n > len(directory):
                raise FormatError("PDB stream directory is truncated")
            self.streams.append(list(struct.unpack_from(f"<{n}I", directory, pos)))
            self.sizes.append(size)
            pos += 4 * n

    def _block(self, index: int) -> bytes:
        if index >= self.num_blocks:
            raise FormatError("PDB refers to a block past its end")
        return read_exact(self.fh, index * self.block_size, self.block_size, "PDB block")

    def stream(self, index: int, limit: Optional[int] = None) -> bytes:
        blocks = self.streams[index] if index < len(self.streams) else None
        if blocks is None:
            return b""
        size = self.sizes[index] if limit is None else min(limit, self.sizes[index])
        out = bytearray()
        for block in blocks:
            if len(out) >= size:
                break
            out += self._block(block)
        return bytes(out[:size])


def read(path: str) -> List[DebugObject]:
    with open(path, "rb") as fh:
        msf = _Msf(fh)
        info = msf.stream(1, 28)
        if len(info) < 28:
            raise FormatError("PDB has no PDB info stream")
        _version, _sig, age = struct.unpack_from("<3I", info)
        guid = info[12:28]
        dbi = msf.stream(3, 64)
        arch, feats = "unknown", []
        if len(dbi) >= 64:
            dbi_age = struct.unpack_from("<I", dbi, 8)[0]
            age = dbi_age or age
            sym_stream = struct.unpack_from("<H", dbi, 20)[0]
            mod_info_size = struct.unpack_from("<i", dbi, 24)[0]
            machine = struct.unpack_from("<H", dbi, 58)[0]
            arch = _MACHINES.get(machine, "unknown")
            if sym_stream < len(msf.sizes) and msf.sizes[sym_stream]:
                feats.append("symtab")
            if mod_info_size > 0:
                feats.append("debug")
        return [
            DebugObject(
                "pdb",
                "debug companion",
                debug_id(guid, age, little_endian=True),
                None,
                arch,
                ordered(feats),
            )
        ]
