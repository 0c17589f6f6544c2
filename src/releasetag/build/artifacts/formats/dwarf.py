"""DWARF line programs of ELF and thin little-endian Mach-O files (pyelftools): the source
files a debug file names, and file and line for an address.

``source_files`` lists what ``debug-files upload --include-sources`` bundles: every file of
every compilation unit's line program header, as an absolute path (joined to its include
directory and the unit's ``DW_AT_comp_dir``, ``.``/``..`` folded), in the order met, once
each. ``LineTable`` is what the collector keeps per uploaded debug file to turn a
symbolicated address into ``abs_path`` and ``lineno``.
"""

from __future__ import annotations

import bisect
import io
import itertools
import posixpath
from array import array
from typing import Any, Callable, Iterator, List, Optional, Tuple

from releasetag.build.artifacts.formats import FormatError

MAX_ROWS = 4_000_000  # line rows kept for one file (a bound on the collector's memory)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value or "")


def _join(base: str, name: str) -> str:
    if not name:
        return base
    if name.startswith("/") or (len(name) > 2 and name[1] == ":" and name[2] in "\\/"):
        return name
    return posixpath.join(base, name) if base else name


def _clean(path: str) -> str:
    if len(path) > 2 and path[1] == ":":  # a Windows path: fold with '\' kept as written
        return path
    folded = posixpath.normpath(path)
    return folded if path.startswith("/") or not folded.startswith("..") else path


def _open_elf(data: bytes) -> Any:
    try:
        from elftools.elf.elffile import ELFFile
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FormatError(
            "reading DWARF needs pyelftools: pip install 'releasetag[artifacts]'"
        ) from exc
    return ELFFile(io.BytesIO(data))


def _dwarf_info(data: bytes) -> Any:
    """pyelftools' DWARFInfo of an ELF or a thin Mach-O file (None without DWARF)."""
    if data[:4] in _MACHO:
        from releasetag.build.artifacts.formats.dwarf_macho import macho_dwarf

        return macho_dwarf(data)
    if data[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        raise FormatError("fat Mach-O files: sources are read from thin files (or dSYMs) only")
    elf = _open_elf(data)
    return elf.get_dwarf_info() if elf.has_dwarf_info() else None


_MACHO = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")


def _programs(dwarf: Any) -> Iterator[Tuple[Any, Any]]:
    """(line program, its compilation unit or None) for each line program. DWARF 5 programs
    are read one after the other from ``.debug_line`` (their directory 0 is the compilation
    directory: no DIE is parsed, which is most of the time pyelftools takes); older ones
    through their units' ``DW_AT_stmt_list``, for ``DW_AT_comp_dir``."""
    units = dwarf.iter_CUs()
    first = next(units, None)
    section = dwarf.debug_line_sec
    if first is None or section is None:
        return
    offset, end = 0, section.size
    program = dwarf._parse_line_program_at_offset(0, first.structs)
    if int(program.header["version"]) < 5 or first["version"] < 5:
        for cu in itertools.chain([first], units):
            found = dwarf.line_program_for_CU(cu)
            if found is not None:
                yield found, cu
        return
    while True:
        yield program, None
        offset = program.program_end_offset
        if offset >= end:
            return
        program = dwarf._parse_line_program_at_offset(offset, first.structs)


def _units(data: bytes) -> Iterator[Tuple[Any, Callable[[int], str]]]:
    """(line program, file index -> absolute path) per compilation unit with line info."""
    dwarf = _dwarf_info(data)
    if dwarf is None:
        return
    for program, cu in _programs(dwarf):
        header = program.header
        version = int(header["version"])
        dirs = [_text(d) for d in header["include_directory"]]
        if version >= 5:  # directory 0 is the compilation directory: no DIE to parse
            comp_dir = dirs[0] if dirs else ""
        else:
            top = cu.get_top_DIE()
            comp_dir = _text(getattr(top.attributes.get("DW_AT_comp_dir"), "value", b""))
        files = [(_text(e.name), int(e.dir_index)) for e in header["file_entry"]]

        def path_of(index: int, dirs: List[str] = dirs, files: List[Tuple[str, int]] = files,
                    comp_dir: str = comp_dir, version: int = version) -> str:  # fmt: skip
            slot = index if version >= 5 else index - 1
            if not 0 <= slot < len(files):
                return ""
            name, dir_index = files[slot]
            if version >= 5:
                folder = dirs[dir_index] if 0 <= dir_index < len(dirs) else ""
            else:
                folder = dirs[dir_index - 1] if 0 < dir_index <= len(dirs) else ""
            return _clean(_join(_join(comp_dir, folder), name))

        yield program, path_of


def source_files(data: bytes) -> List[str]:
    """Absolute paths of the source files the ELF's DWARF line programs name, once each.
    Raises FormatError for DWARF that cannot be read."""
    seen: List[str] = []
    known = set()
    try:
        for program, path_of in _units(data):
            count = len(program.header["file_entry"])
            first = 0 if int(program.header["version"]) >= 5 else 1
            for index in range(first, first + count):
                path = path_of(index)
                if path and path not in known:
                    known.add(path)
                    seen.append(path)
    except FormatError:
        raise
    except Exception as exc:  # pyelftools raises many kinds on corrupt DWARF
        raise FormatError(f"cannot read the DWARF line programs ({type(exc).__name__})") from None
    return seen


class LineTable:
    """Address -> (file, line) rows of one ELF's line programs, sorted, kept compact.
    ``problem`` says why there are none (no DWARF, unreadable DWARF)."""

    __slots__ = ("addresses", "files", "lines", "paths", "problem", "size")

    def __init__(self, data: Optional[bytes]) -> None:
        self.addresses, self.files, self.lines = array("Q"), array("l"), array("L")
        self.paths: List[str] = []
        self.problem: Optional[str] = None
        self.size = 200
        if data is None:
            self.problem = "the debug file's bytes are gone"
            return
        try:
            rows = self._rows(data)
        except FormatError as exc:
            self.problem = str(exc)
            return
        except Exception as exc:  # pyelftools raises many kinds on corrupt DWARF
            self.problem = f"the DWARF line tables cannot be read ({type(exc).__name__})"
            return
        if not rows:
            self.problem = "the debug file has no DWARF line tables"
        rows.sort()
        for address, path_index, line in rows:
            self.addresses.append(address)
            self.files.append(path_index)
            self.lines.append(line)
        self.size += 24 * len(rows) + sum(len(p) + 50 for p in self.paths)

    def _rows(self, data: bytes) -> List[Tuple[int, int, int]]:
        rows: List[Tuple[int, int, int]] = []
        index = {}
        for program, path_of in _units(data):
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                if state.end_sequence:  # the end of a run of rows: nothing past it
                    rows.append((state.address, -1, 0))
                    continue
                path = path_of(state.file)
                if path not in index:
                    index[path] = len(self.paths)
                    self.paths.append(path)
                rows.append((state.address, index[path], state.line))
                if len(rows) > MAX_ROWS:
                    raise FormatError(f"the DWARF line tables hold more than {MAX_ROWS} rows")
        return rows

    def lookup(self, address: int) -> Optional[Tuple[str, int]]:
        """(absolute path, line) for ``address`` (an address in the file's own space)."""
        i = bisect.bisect_right(self.addresses, address) - 1
        while i >= 0 and self.files[i] >= 0 and self.lines[i] == 0:
            i -= 1  # line 0: compiler-generated code; the line before it holds
        if i < 0 or self.files[i] < 0 or not self.paths[self.files[i]]:
            return None
        return self.paths[self.files[i]], self.lines[i]
