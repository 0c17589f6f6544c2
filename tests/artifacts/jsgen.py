"""Generates minified-looking JS with an exact sourcemap, for position-preserving tests.

Every token is a unique identifier ``vN`` so a test can find where it ended up after
injection and check that the map still sends it to the same original position.
"""

from __future__ import annotations

import json
import random
from typing import Dict, List, Tuple

from releasetag.build.artifacts.mappings import vlq_encode

Pos = Tuple[int, int]


def utf16_col(line_text: str) -> int:
    return len(line_text.encode("utf-16-le")) // 2


def position_of(text: str, needle: str) -> Pos:
    at = text.index(needle)
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return line, utf16_col(text[start:at])


def make_code(rng: random.Random, lines: int = 6, per_line: int = 7) -> Tuple[str, List[str]]:
    names, out = [], []
    n = 0
    for _ in range(lines):
        parts = []
        for _ in range(per_line):
            parts.append(f"var v{n}={rng.randrange(100)};")
            names.append(f"v{n}")
            n += 1
        out.append("".join(parts))
    return "\n".join(out) + "\n", names


def original_positions(rng: random.Random, names: List[str]) -> Dict[str, Tuple[int, int, int]]:
    """name -> (source index, original line, original column)."""
    return {name: (rng.randrange(2), rng.randrange(200), rng.randrange(80)) for name in names}


def build_regular(tokens: List[Tuple[Pos, Tuple[int, int, int]]], origin: Pos = (0, 0)) -> dict:
    """A regular map for (generated pos, original) tokens, generated positions relative to
    ``origin`` (a section offset)."""
    by_line: Dict[int, List[Tuple[int, Tuple[int, int, int]]]] = {}
    for (line, col), orig in tokens:
        rel_line = line - origin[0]
        rel_col = col - origin[1] if line == origin[0] else col
        by_line.setdefault(rel_line, []).append((rel_col, orig))
    last_line = max(by_line) if by_line else -1
    prev_src = prev_oline = prev_ocol = 0
    lines = []
    for li in range(last_line + 1):
        segs, prev_col = [], 0
        for col, (src, oline, ocol) in sorted(by_line.get(li, [])):
            segs.append(
                vlq_encode(col - prev_col)
                + vlq_encode(src - prev_src)
                + vlq_encode(oline - prev_oline)
                + vlq_encode(ocol - prev_ocol)
            )
            prev_col, prev_src, prev_oline, prev_ocol = col, src, oline, ocol
        lines.append(",".join(segs))
    return {
        "version": 3,
        "sources": ["src/one.ts", "src/two.ts"],
        "names": [],
        "sourcesContent": ["// one\n", "// two\n"],
        "mappings": ";".join(lines),
    }


def build_map(
    text: str, names: List[str], origs: Dict[str, Tuple[int, int, int]], index_at: int = 0
) -> bytes:
    """The map for ``text``; with ``index_at`` > 0, an index map whose second section starts at
    the token ``v{index_at}``."""
    tokens = [(position_of(text, f"var {n}="), origs[n]) for n in names]
    # map the identifier itself (after "var ")
    tokens = [((line, col + 4), orig) for (line, col), orig in tokens]
    if not index_at:
        return json.dumps(build_regular(tokens)).encode()
    split = position_of(text, f"var v{index_at}=")
    first = [t for t in tokens if t[0] < split]
    second = [t for t in tokens if t[0] >= split]
    return json.dumps(
        {
            "version": 3,
            "sections": [
                {"offset": {"line": 0, "column": 0}, "map": build_regular(first)},
                {
                    "offset": {"line": split[0], "column": split[1]},
                    "map": build_regular(second, origin=split),
                },
            ],
        }
    ).encode()


def resolve_all(map_bytes: bytes, text: str, names: List[str]) -> Dict[str, tuple]:
    """name -> (source, line, col) as symbolic resolves the identifier's generated spot."""
    from symbolic.sourcemap import SourceMapView

    view = SourceMapView.from_json_bytes(map_bytes)
    out = {}
    for n in names:
        line, col = position_of(text, f"var {n}=")
        tok = view.lookup(line, col + 4)
        out[n] = (
            None
            if tok is None
            else (
                tok.src,
                tok.src_line,
                tok.src_col,
                (tok.dst_line, tok.dst_col) == (line, col + 4),
            )
        )
    return out
