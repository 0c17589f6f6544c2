"""Shift a source map's generated positions after text is inserted into the generated file.

Only what insertion needs is decoded: a whole inserted line is one more ``;`` in ``mappings``;
splitting a line at a column re-encodes the generated column of one segment. Every other VLQ
field is relative to the previous segment and stays valid untouched.
"""

from __future__ import annotations

import bisect
from array import array
from typing import Any, Dict, Iterator, List, Optional, Tuple

from releasetag.protocol.errors import ArtifactError

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}


class MappingError(ArtifactError, ValueError):
    """The ``mappings`` string is not valid Base64 VLQ."""


def vlq_decode_first(segment: str) -> Tuple[int, int]:
    """Decode the first VLQ number of ``segment``; returns (value, characters used)."""
    value, shift = 0, 0
    for i, ch in enumerate(segment):
        try:
            digit = _B64_VALUE[ch]
        except KeyError:
            raise MappingError(f"invalid character {ch!r} in mappings") from None
        value += (digit & 31) << shift
        if not digit & 32:
            return (-(value >> 1) if value & 1 else value >> 1), i + 1
        shift += 5
    raise MappingError("truncated VLQ number in mappings")


def vlq_encode(value: int) -> str:
    """Encode one integer as Base64 VLQ."""
    vlq = (-value << 1) | 1 if value < 0 else value << 1
    out = []
    while True:
        digit = vlq & 31
        vlq >>= 5
        out.append(_B64[digit | (32 if vlq else 0)])
        if not vlq:
            return "".join(out)


def insert_lines(mappings: str, line: int, count: int) -> str:
    """Mappings after ``count`` whole lines are inserted before generated line ``line``."""
    if count <= 0:
        return mappings
    if line == 0:
        return ";" * count + mappings
    pos = -1
    for _ in range(line):
        pos = mappings.find(";", pos + 1)
        if pos < 0:  # the map covers fewer lines: nothing after the insertion point
            return mappings
    return mappings[: pos + 1] + ";" * count + mappings[pos + 1 :]


def split_line(mappings: str, line: int, column: int, blank_lines: int) -> str:
    """Mappings after generated line ``line`` is broken at ``column`` and ``blank_lines``
    lines are inserted between the two halves (the second half starts at column 0)."""
    lines = mappings.split(";")
    if line >= len(lines):
        return mappings
    col = 0
    keep: List[str] = []
    moved: List[str] = []
    for seg in filter(None, lines[line].split(",")):
        if moved:  # later segments are relative to the previous one: unchanged
            moved.append(seg)
            continue
        delta, used = vlq_decode_first(seg)
        col += delta
        if col < column:
            keep.append(seg)
        else:
            moved.append(vlq_encode(col - column) + seg[used:])
    lines[line : line + 1] = [",".join(keep)] + [""] * blank_lines + [",".join(moved)]
    return ";".join(lines)


def shift_map(smap: Dict[str, Any], line: int, column: int, lines_added: int) -> None:
    """Adjust ``smap`` (regular or index map, in place) for an insertion at (line, column).

    With ``column == 0`` the insertion is ``lines_added`` whole lines before ``line``.
    Otherwise ``line`` is split at ``column`` with ``lines_added - 1`` lines in between.
    """
    if isinstance(smap.get("sections"), list):
        _shift_index(smap["sections"], line, column, lines_added)
        return
    mappings = smap.get("mappings")
    if not isinstance(mappings, str):
        raise MappingError("map has no mappings string")
    if column == 0:
        smap["mappings"] = insert_lines(mappings, line, lines_added)
    else:
        smap["mappings"] = split_line(mappings, line, column, lines_added - 1)


def _shift_index(sections: List[Dict[str, Any]], line: int, column: int, added: int) -> None:
    """Sections at or after the insertion point move; the one before it is shifted inside."""
    point = (line, column)
    containing = None
    for section in sections:
        off = section.setdefault("offset", {"line": 0, "column": 0})
        sl, sc = int(off.get("line", 0)), int(off.get("column", 0))
        if (sl, sc) < point:
            containing = (section, sl, sc)
        elif sl == line and column:
            off["line"], off["column"] = line + added, sc - column
        else:
            off["line"] = sl + added
    if containing is None:
        return
    section, sl, sc = containing
    if isinstance(section.get("map"), dict):
        inner_line = line - sl
        shift_map(section["map"], inner_line, column - sc if inner_line == 0 else column, added)


# --- decoding for lookups (the collector) ---------------------------------------------------
MAX_VALUE = 2**31 - 1  # columns, lines and indexes: what a 32-bit field holds, as browsers do
MAX_DEPTH = 4  # indexed maps inside indexed maps
_DIGITS = 7  # base64 digits of one value: 7 x 5 bits hold any 32-bit value


class Segments:
    """Decoded mappings kept compact for lookups: one row per generated line that has
    segments (empty lines cost nothing), the segments' fields in flat 32-bit arrays. A field
    is -1 where a segment does not have it. ``lines`` is the number of generated lines."""

    __slots__ = ("lines", "rows", "starts", "gen", "src", "line", "col", "name")

    def __init__(self) -> None:
        self.lines = 0
        self.rows = array("l")  # generated line numbers that have segments, ascending
        self.starts = array("l")  # each row's first segment; one more at the end
        self.gen, self.src, self.line = array("i"), array("i"), array("i")
        self.col, self.name = array("i"), array("i")

    def nbytes(self) -> int:
        """Bytes the arrays hold."""
        arrays = (self.rows, self.starts, self.gen, self.src, self.line, self.col, self.name)
        return sum(a.buffer_info()[1] * a.itemsize for a in arrays) + 7 * 64

    def __len__(self) -> int:
        return len(self.gen)

    def row(self, line: int) -> Tuple[int, int]:
        """The index range of generated line ``line``'s segments (empty when it has none)."""
        i = bisect.bisect_left(self.rows, line)
        if i < len(self.rows) and self.rows[i] == line:
            return self.starts[i], self.starts[i + 1] if i + 1 < len(self.rows) else len(self.gen)
        return 0, 0

    def segment(self, i: int) -> Tuple[int, ...]:
        """Segment ``i`` as (column,) or (column, source, line, column[, name])."""
        if self.src[i] < 0:
            return (self.gen[i],)
        if self.name[i] < 0:
            return (self.gen[i], self.src[i], self.line[i], self.col[i])
        return (self.gen[i], self.src[i], self.line[i], self.col[i], self.name[i])

    def lookup(self, line: int, column: int) -> Optional[Tuple[int, ...]]:
        """The segment covering generated ``line``/``column`` (0-based), or None."""
        lo, hi = self.row(line)
        i = bisect.bisect_right(self.gen, column, lo, hi) - 1
        if hi == lo or i < lo:
            return None
        found = self.segment(i)
        return found if len(found) >= 4 else None

    def by_line(self) -> Iterator[Tuple[int, range]]:
        """(generated line, its segment indexes) for every line that has segments."""
        ends = [*self.starts[1:], len(self.gen)]
        for row, start, end in zip(self.rows, self.starts, ends):
            yield row, range(start, end)


def decode_segments(
    mappings: str,
    out: Optional[Segments] = None,
    at: Tuple[int, int] = (0, 0),
    sources: Optional[List[int]] = None,
    names: Optional[List[int]] = None,
) -> Segments:
    """Decode Base64 VLQ ``mappings`` into ``out`` (a new ``Segments`` by default), its first
    line at generated position ``at`` (an indexed map's section offset). ``sources`` and
    ``names`` map a section's indexes to the whole map's; without them indexes are kept.

    Bounded by the input: at most one stored segment per two characters, none for an empty
    line; a value longer than 32 bits or outside 0..2**31-1 is a ``MappingError``, as is a
    section that starts before the previous one ends."""
    out = Segments() if out is None else out
    b64, fields = _B64_VALUE, []
    line, shift_col = at
    if not (0 <= line <= MAX_VALUE and 0 <= shift_col <= MAX_VALUE):
        raise MappingError("a section offset is out of range")
    if out.rows and (line < out.rows[-1] or (line == out.rows[-1] and shift_col < out.gen[-1])):
        raise MappingError("an indexed map's sections overlap or are out of order")
    gen = src = oline = ocol = name = value = shift = digits = 0
    last_row = out.rows[-1] if out.rows else -1
    for ch in mappings + ";":
        digit = b64.get(ch)
        if digit is not None:
            digits += 1
            if digits > _DIGITS:
                raise MappingError("a mappings value is larger than 32 bits")
            value += (digit & 31) << shift
            if digit & 32:
                shift += 5
            else:
                fields.append(-(value >> 1) if value & 1 else value >> 1)
                value = shift = digits = 0
            continue
        if ch != "," and ch != ";":
            raise MappingError(f"invalid character {ch!r} in mappings")
        if shift:
            raise MappingError("truncated VLQ number in mappings")
        if fields:
            if len(fields) not in (1, 4, 5):
                raise MappingError("a mappings segment has neither 1, 4 nor 5 fields")
            gen += fields[0]
            s = ol = oc = nm = -1
            if len(fields) > 1:
                src, oline, ocol = src + fields[1], oline + fields[2], ocol + fields[3]
                if not (0 <= oline <= MAX_VALUE and 0 <= ocol <= MAX_VALUE):
                    raise MappingError("an original line or column is out of range")
                s, ol, oc = _index(src, sources, "source"), oline, ocol
                if len(fields) == 5:
                    name += fields[4]
                    nm = _index(name, names, "name")
            column = gen + shift_col
            if gen < 0 or column > MAX_VALUE or line > MAX_VALUE:
                raise MappingError("a generated line or column is out of range")
            if line != last_row:
                out.rows.append(line)
                out.starts.append(len(out.gen))
                last_row = line
            out.gen.append(column)
            out.src.append(s)
            out.line.append(ol)
            out.col.append(oc)
            out.name.append(nm)
            fields = []
        if ch == ";":
            line += 1
            gen = shift_col = 0
    out.lines = max(out.lines, line)
    return out


def _index(value: int, table: Optional[List[int]], what: str) -> int:
    if table is None:
        if not 0 <= value <= MAX_VALUE:
            raise MappingError(f"a mappings {what} index is out of range")
        return value
    if not 0 <= value < len(table):
        raise MappingError(f"a section's mapping names a missing {what}")
    return table[value]
