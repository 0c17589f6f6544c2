"""ELF: debug ID from the GNU build-id note (or a hash of the first page of .text)."""

from __future__ import annotations

from typing import List, Optional

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


def _build_id(elf) -> bytes:
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


def _text_hash(elf) -> bytes:
    """XOR of the first page of .text folded into 16 bytes (for files without build-id)."""
    text = elf.get_section_by_name(".text")
    if text is None or text["sh_type"] == "SHT_NOBITS" or not text["sh_size"]:
        return b""
    data = text.data()[:4096]
    out = bytearray(16)
    for i, byte in enumerate(data):
        out[i % 16] ^= byte
    return bytes(out)


def _has_data(elf, *names: str) -> bool:
    for name in names:
        sec = elf.get_section_by_name(name)
        if sec is not None and sec["sh_type"] != "SHT_NOBITS" and sec["sh_size"] > 0:
            return True
    return False


def _features(elf) -> List[str]:
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


def _file_type(elf) -> str:
    kind = _TYPES.get(elf.header["e_type"], "other")
    if kind == "executable":
        if not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments()):
            return "debug companion"
    elif kind == "library" and not _has_data(elf, ".text"):
        return "debug companion"
    return kind


def _arch(elf) -> str:
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
