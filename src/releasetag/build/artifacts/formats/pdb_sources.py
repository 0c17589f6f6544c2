"""The source file names a PDB records: the file info substream of its DBI stream (the files
each module was compiled from, headers included), in module order, once each."""

from __future__ import annotations

import struct
from typing import List

from releasetag.build.artifacts.formats import FormatError
from releasetag.build.artifacts.formats.pdb import _Msf

_DBI_HEADER = 64
_MAX_NAMES = 1_000_000


def source_files(path: str) -> List[str]:
    """Source paths named by the PDB at ``path`` (FormatError when it cannot be read)."""
    with open(path, "rb") as fh:
        msf = _Msf(fh)
        dbi = msf.stream(3)
    if len(dbi) < _DBI_HEADER:
        raise FormatError("the PDB has no DBI stream")
    sizes = struct.unpack_from("<6i", dbi, 24)  # modules, contributions, map, files, ...
    if any(size < 0 for size in sizes):
        raise FormatError("the PDB's DBI stream has a negative substream size")
    start = _DBI_HEADER + sizes[0] + sizes[1] + sizes[2]
    info = dbi[start : start + sizes[3]]
    if len(info) < 4:
        return []
    modules = struct.unpack_from("<H", info)[0]
    at = 4 + 2 * modules  # past the module indices (not needed: files are listed in order)
    if at + 2 * modules > len(info):
        raise FormatError("the PDB's file info substream is truncated")
    count = sum(struct.unpack_from(f"<{modules}H", info, at))
    at += 2 * modules
    if count > _MAX_NAMES or at + 4 * count > len(info):
        raise FormatError("the PDB's file info substream is truncated")
    offsets = struct.unpack_from(f"<{count}I", info, at)
    names = info[at + 4 * count :]
    seen: List[str] = []
    known = set()
    for offset in offsets:
        end = names.find(b"\0", offset)
        if offset >= len(names) or end < 0:
            raise FormatError("the PDB's file names run past the end of their buffer")
        name = names[offset:end].decode("utf-8", "replace")
        if name and name not in known:
            known.add(name)
            seen.append(name)
    return seen
