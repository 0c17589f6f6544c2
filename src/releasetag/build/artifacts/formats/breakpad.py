"""Breakpad symbol files: debug ID from the ``MODULE`` line, code ID from ``INFO CODE_ID``."""

from __future__ import annotations

import re
from typing import List

from releasetag.build.artifacts.formats import DebugObject, FormatError, ordered

_MODULE = re.compile(r"^MODULE (\S+) (\S+) ([0-9a-fA-F]{33,40}) ?(.*)$")
_ARCHES = {
    "x86": "x86",
    "x86_64": "x86_64",
    "arm": "arm",
    "arm64": "arm64",
    "ppc": "ppc",
    "ppc64": "ppc64",
    "mips": "mips",
    "mips64": "mips64",
}


def sniff(head: bytes) -> bool:
    return head.startswith(b"MODULE ")


def breakpad_to_debug_id(text: str) -> str:
    """``<32 hex GUID><age hex>`` as printed by Breakpad -> ``uuid[-age]``."""
    guid, age = text[:32].lower(), int(text[32:] or "0", 16)
    uuid = f"{guid[:8]}-{guid[8:12]}-{guid[12:16]}-{guid[16:20]}-{guid[20:]}"
    return f"{uuid}-{age:x}" if age else uuid


def read(path: str) -> List[DebugObject]:
    with open(path, "rb") as fh:
        first = fh.readline(4096).decode("utf-8", "replace").rstrip("\r\n")
        m = _MODULE.match(first)
        if not m:
            raise FormatError("Breakpad file has no valid MODULE line")
        _os, arch, ident, name = m.groups()
        code_id = None
        has = {"PUBLIC": False, "FUNC": False, "STACK": False}
        for raw in fh:
            word = raw.split(b" ", 1)[0].decode("latin-1").strip()
            if word == "INFO" and raw.startswith(b"INFO CODE_ID "):
                parts = raw.decode("utf-8", "replace").split()
                if len(parts) >= 3:
                    code_id = parts[2].lower()
            elif word in has:
                has[word] = True
    feats = []
    if has["PUBLIC"] or has["FUNC"]:
        feats.append("symtab")
    if has["FUNC"]:
        feats.append("debug")
    if has["STACK"]:
        feats.append("unwind")
    return [
        DebugObject(
            "breakpad",
            "debug companion",
            breakpad_to_debug_id(ident),
            code_id,
            _ARCHES.get(arch, arch),
            ordered(feats),
            name=name or None,
        )
    ]
