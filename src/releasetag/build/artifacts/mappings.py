"""Shift a source map's generated positions after text is inserted into the generated file.

Only what insertion needs is decoded: a whole inserted line is one more ``;`` in ``mappings``;
splitting a line at a column re-encodes the generated column of one segment. Every other VLQ
field is relative to the previous segment and stays valid untouched.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

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
