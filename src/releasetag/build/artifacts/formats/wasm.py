"""WebAssembly: debug ID from the ``build_id`` custom section."""

from __future__ import annotations

from typing import BinaryIO, List, Optional, Tuple

from releasetag.build.artifacts.formats import DebugObject, FormatError, debug_id, ordered

MAGIC = b"\0asm"


def sniff(head: bytes) -> bool:
    return head[:4] == MAGIC


def _leb(fh: BinaryIO) -> Optional[int]:
    result, shift = 0, 0
    while True:
        byte = fh.read(1)
        if not byte:
            return None
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise FormatError("wasm file has a malformed LEB128 number")


def _leb_bytes(data: bytes, pos: int) -> Tuple[int, int]:
    result, shift = 0, 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    raise FormatError("wasm custom section is truncated")


def read(path: str) -> List[DebugObject]:
    build_id: Optional[bytes] = None
    external: Optional[str] = None
    customs = set()
    has_code = False
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        end = fh.tell()
        fh.seek(0)
        if fh.read(8)[:4] != MAGIC:
            raise FormatError("not a wasm file")
        while fh.tell() < end:
            sid = fh.read(1)[0]
            size = _leb(fh)
            if size is None or fh.tell() + size > end:
                raise FormatError("wasm file is truncated (a section runs past the end)")
            start = fh.tell()
            if sid == 10:
                has_code = True
            if sid == 0:
                head = fh.read(min(size, 1024))
                nlen, pos = _leb_bytes(head, 0)
                name = head[pos : pos + nlen].decode("utf-8", "replace")
                customs.add(name)
                if name in ("build_id", "external_debug_info"):
                    fh.seek(start)
                    body = fh.read(size)[pos + nlen :]
                    if name == "build_id":  # the raw ID bytes, as symbolic reads them
                        build_id = body
                    else:  # a URL string with a LEB128 length
                        vlen, vpos = _leb_bytes(body, 0)
                        external = body[vpos : vpos + vlen].decode("utf-8", "replace")
            fh.seek(start + size)
    feats = []
    if "name" in customs:
        feats.append("symtab")
    if ".debug_info" in customs:
        feats.append("debug")
    return [
        DebugObject(
            "wasm",
            "library" if has_code else "debug companion",
            debug_id(build_id) if build_id else None,
            build_id.hex() if build_id else None,
            "wasm32",
            ordered(feats),
            name=external,
        )
    ]
