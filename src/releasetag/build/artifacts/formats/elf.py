"""ELF: debug ID from the GNU build-id note (or a hash of the first page of .text)."""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Optional, Tuple

from releasetag.build.artifacts.formats import DebugObject, FormatError, debug_id, ordered

MAGIC = b"\x7fELF"

_MACHINES = {
    3: "x86",
    62: "x86_64",
    40: "arm",
    183: "arm64",
    20: "ppc",
    21: "ppc64",
    8: "mips",
    243: "riscv",
    2: "sparc",
    43: "sparcv9",
    22: "s390",
}
_TYPES = {
    "ET_REL": "relocatable",
    "ET_EXEC": "executable",
    "ET_DYN": "library",
    "ET_CORE": "core dump",
}
_NT_GNU_BUILD_ID = 3


def sniff(head: bytes) -> bool:
    return head[:4] == MAGIC


def _build_id(elf: Any) -> bytes:
    """The GNU build-id bytes from a PT_NOTE segment or a note section, or b''."""
    from elftools.elf.sections import NoteSection

    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_NOTE":
            for note in seg.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                    return bytes.fromhex(note["n_desc"])
    for sec in elf.iter_sections():
        if isinstance(sec, NoteSection) and sec["sh_type"] != "SHT_NOBITS":
            for note in sec.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                    return bytes.fromhex(note["n_desc"])
    return b""


def _text_hash(elf: Any) -> bytes:
    """XOR of the first page of .text folded into 16 bytes (for files without build-id)."""
    text = elf.get_section_by_name(".text")
    if text is None or text["sh_type"] == "SHT_NOBITS" or not text["sh_size"]:
        return b""
    data = text.data()[:4096]
    out = bytearray(16)
    for i, byte in enumerate(data):
        out[i % 16] ^= byte
    return bytes(out)


def _has_data(elf: Any, *names: str) -> bool:
    for name in names:
        sec = elf.get_section_by_name(name)
        if sec is not None and sec["sh_type"] != "SHT_NOBITS" and sec["sh_size"] > 0:
            return True
    return False


def _features(elf: Any) -> List[str]:
    from elftools.elf.sections import SymbolTableSection

    feats = []
    for sec in elf.iter_sections():
        if isinstance(sec, SymbolTableSection) and sec.num_symbols() > 1:
            feats.append("symtab")
            break
    if _has_data(elf, ".debug_info", ".zdebug_info"):
        feats.append("debug")
    if _has_data(elf, ".eh_frame", ".debug_frame", ".zdebug_frame"):
        feats.append("unwind")
    return ordered(feats)


def _file_type(elf: Any) -> str:
    kind = _TYPES.get(elf.header["e_type"], "other")
    if kind == "executable":
        if not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments()):
            return "debug companion"
    elif kind == "library" and not _has_data(elf, ".text"):
        return "debug companion"
    return kind


def _arch(elf: Any) -> str:
    machine = elf.header["e_machine"]
    number = machine if isinstance(machine, int) else _machine_number(machine)
    arch = _MACHINES.get(number, "unknown")
    if arch == "mips" and elf.elfclass == 64:
        return "mips64"
    return arch


def _machine_number(name: str) -> int:
    from elftools.elf.enums import ENUM_E_MACHINE

    return ENUM_E_MACHINE.get(name, -1)


def read(path: str) -> List[DebugObject]:
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FormatError(
            "reading ELF files needs pyelftools: pip install 'releasetag[artifacts]'"
        ) from exc
    with open(path, "rb") as fh:
        try:
            elf = ELFFile(fh)
            build_id = _build_id(elf)
            if build_id:
                ident: Optional[str] = debug_id(build_id, little_endian=elf.little_endian)
                code_id: Optional[str] = build_id.hex()
            else:
                digest = _text_hash(elf)
                ident = debug_id(digest, little_endian=elf.little_endian) if digest else None
                code_id = None
            return [DebugObject("elf", _file_type(elf), ident, code_id, _arch(elf), _features(elf))]
        except FormatError:
            raise
        except ELFError as exc:
            raise FormatError(f"not a valid ELF file ({exc})") from None
        except Exception as exc:  # construct/struct errors on truncated input
            raise FormatError(
                f"not a valid ELF file (truncated or corrupt: {type(exc).__name__})"
            ) from None


# --- function symbols for the collector (bounded, without pyelftools) -----------------------
MAX_SYMBOLS = 4_000_000
_SHT_SYMTAB, _SHT_DYNSYM, _PT_LOAD, _STT_FUNC = 2, 11, 1, 2


class SymbolError(FormatError):
    """A debug file whose headers or symbol table cannot be read as they claim."""


def function_symbols(data: bytes) -> Tuple[int, List[Tuple[int, int, int]], bytes]:
    """(the first loadable segment's address, sorted (address, size, name offset) of the
    function symbols of ``.symtab`` (else ``.dynsym``), their string table).

    Every count and offset the headers claim is checked against the file's size before it
    is read (a symbol table past the end, a wrong entry size, more than ``MAX_SYMBOLS``
    symbols are a ``SymbolError``), so a malformed file costs no more than reading it."""
    if data[:4] != MAGIC or len(data) < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise SymbolError("not an ELF file")
    wide, end = data[4] == 2, "<" if data[5] == 1 else ">"
    head = struct.unpack_from(end + ("QQQIHHHHHH" if wide else "IIIIHHHHHH"), data, 24)
    phoff, shoff, phentsize, phnum, shentsize, shnum = (head[1], head[2], *head[5:7], *head[7:9])
    phdr, shdr = ("IIQQQQQQ", "IIQQQQIIQQ") if wide else ("IIIIIIII", "IIIIIIIIII")
    loads = []
    for seg in _table(data, end + phdr, phoff, phentsize, phnum, "program header"):
        if seg[0] == _PT_LOAD:
            loads.append(seg[3] if wide else seg[2])
    sections = list(_table(data, end + shdr, shoff, shentsize, shnum, "section header"))
    for kind in (_SHT_SYMTAB, _SHT_DYNSYM):
        for sec in sections:
            if sec[1] == kind:
                found = _functions(data, end, wide, sec, sections)
                if found[0]:
                    return (min(loads) if loads else 0), found[0], found[1]
    return (min(loads) if loads else 0), [], b""


def _table(data: bytes, fmt: str, offset: int, entsize: int, count: int, what: str) -> Any:
    if not count:
        return []
    size = struct.calcsize(fmt)
    if entsize < size or offset + entsize * count > len(data):
        raise SymbolError(f"the {what} table runs past the end of the file or is malformed")
    return (struct.unpack_from(fmt, data, offset + i * entsize) for i in range(count))


def _functions(
    data: bytes, end: str, wide: bool, sec: Tuple, sections: List[Tuple]
) -> Tuple[List[Tuple[int, int, int]], bytes]:
    offset, size, link, entsize = (sec[4], sec[5], sec[6], sec[9])
    fmt = end + ("IBBHQQ" if wide else "IIIBBH")
    want = struct.calcsize(fmt)
    if entsize != want or offset + size > len(data):
        raise SymbolError(
            f"the symbol table is malformed (entry size {entsize}, {size} bytes at {offset} "
            f"in a file of {len(data)})"
        )
    if size // want > MAX_SYMBOLS:
        raise SymbolError(f"the symbol table claims more than {MAX_SYMBOLS} symbols")
    if not 0 <= link < len(sections):
        raise SymbolError("the symbol table names no string table")
    strtab = sections[link]
    if strtab[4] + strtab[5] > len(data):
        raise SymbolError("the symbol string table runs past the end of the file")
    strings = data[strtab[4] : strtab[4] + strtab[5]]
    found: Dict[int, Tuple[int, int, int]] = {}
    for sym in struct.iter_unpack(fmt, data[offset : offset + size - size % want]):
        name, info, value, sym_size = (
            (sym[0], sym[1], sym[4], sym[5]) if wide else (sym[0], sym[3], sym[1], sym[2])
        )
        if info & 0xF == _STT_FUNC and value and 0 <= name < len(strings) and strings[name]:
            found.setdefault(value, (value, sym_size, name))
    return sorted(found.values()), strings


def symbol_name(strings: bytes, offset: int) -> str:
    """The NUL-terminated name at ``offset`` of a string table (at most 4 KiB of it)."""
    stop = strings.find(b"\0", offset, offset + 4096)
    return strings[offset : stop if stop >= 0 else offset + 4096].decode("utf-8", "replace")
