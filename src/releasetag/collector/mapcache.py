"""Uploaded sourcemaps parsed for lookups, and the one bounded cache of parsed artifacts.

A parsed map keeps its mappings compact (``build.artifacts.mappings.Segments``: 20 bytes a
segment, nothing for an empty line, an indexed map's sections placed by their offsets without
filling the lines between), so what parsing allocates is bounded by the map's size: a tiny map
cannot claim a section at line two billion or a million empty lines' worth of lists. The cache
charges each entry by what it holds (the arrays, the strings it keeps, and what it builds
later: split source lines, the minified names, remembered positions), not by its file size.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

from releasetag.build.artifacts.mappings import MAX_DEPTH, MappingError, Segments, decode_segments
from releasetag.build.artifacts.rewrite import join_root

CACHE_BYTES = 64 * 1024 * 1024
MEMO_ENTRIES = 5000  # resolved positions remembered per map
MEMO_ENTRY_BYTES = 800  # what one remembered position holds (its fields and context tuples)
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_LINE_BYTES = 57  # a split line: its list slot and a str header


class ParsedMap:
    """A decoded sourcemap: its sources, contents and names, and its segments."""

    __slots__ = (
        "sources", "contents", "names", "segments", "_tokens", "_source_lines", "memo", "_base",
        "_extra",
    )  # fmt: skip

    def __init__(self, data: bytes) -> None:
        smap = json.loads(data.decode("utf-8-sig"))
        if not isinstance(smap, dict):
            raise ValueError("not a JSON object")
        self.sources: List[Optional[str]] = []
        self.contents: List[Optional[str]] = []
        self.names: List[Optional[str]] = []
        self.segments = Segments()
        if isinstance(smap.get("sections"), list):
            self._add_sections(smap, (0, 0), 0, ({}, {}))
        else:
            if not isinstance(smap.get("mappings"), str):
                raise ValueError("no mappings")
            root = smap.get("sourceRoot") if isinstance(smap.get("sourceRoot"), str) else ""
            self.sources = [
                (join_root(root, s) if root else s) if isinstance(s, str) else None
                for s in _list(smap.get("sources"))
            ]
            contents = _list(smap.get("sourcesContent"))
            self.contents = [c if isinstance(c, str) else None for c in contents]
            self.names = [n if isinstance(n, str) else None for n in _list(smap.get("names"))]
            decode_segments(smap["mappings"], self.segments)
        strings = [*self.sources, *self.contents, *self.names]
        self._base = (
            self.segments.nbytes()
            + sum(sys.getsizeof(s) for s in strings if s is not None)
            + 8 * len(strings)
            + 400
        )
        self._extra = 0
        self._tokens: Optional[Dict[str, str]] = None
        self._source_lines: Dict[int, List[str]] = {}
        # resolved positions: the same error repeats, and its frames resolve alike
        self.memo: Dict[Tuple, Tuple[Optional[Dict[str, Any]], str]] = {}

    def _add_sections(
        self, index: Dict[str, Any], at: Tuple[int, int], depth: int, ids: Tuple[Dict, Dict]
    ) -> None:
        """An indexed map's sections decoded in place (nested indexes too, up to
        ``MAX_DEPTH``); a source or name two sections share is listed once."""
        if depth > MAX_DEPTH:
            raise ValueError(f"indexed maps nested more than {MAX_DEPTH} deep")
        for section in index["sections"]:
            if not isinstance(section, dict):
                raise ValueError("an indexed map's section is not an object")
            offset = section.get("offset") or {}
            try:
                dline, dcol = int(offset.get("line", 0)), int(offset.get("column", 0))
            except (TypeError, ValueError, AttributeError, OverflowError):
                raise ValueError("an indexed map's section has a bad offset") from None
            where = (at[0] + dline, (at[1] if dline == 0 else 0) + dcol)
            part = section.get("map")
            if not isinstance(part, dict):
                raise ValueError("an indexed map's section has no embedded map")
            if isinstance(part.get("sections"), list):
                self._add_sections(part, where, depth + 1, ids)
                continue
            if not isinstance(part.get("mappings"), str):
                raise ValueError("an indexed map's section map has no mappings")
            root = part.get("sourceRoot") if isinstance(part.get("sourceRoot"), str) else ""
            contents = _list(part.get("sourcesContent"))
            sources = []
            for i, s in enumerate(_list(part.get("sources"))):
                s = (join_root(root, s) if root else s) if isinstance(s, str) else None
                content = (
                    contents[i] if i < len(contents) and isinstance(contents[i], str) else None
                )
                sid = ids[0].get(s)
                if sid is None:
                    sid = ids[0][s] = len(self.sources)
                    self.sources.append(s)
                    self.contents.append(content)
                elif self.contents[sid] is None:
                    self.contents[sid] = content
                sources.append(sid)
            names = []
            for n in _list(part.get("names")):
                n = n if isinstance(n, str) else None
                nid = ids[1].get(n)
                if nid is None:
                    nid = ids[1][n] = len(self.names)
                    self.names.append(n)
                names.append(nid)
            decode_segments(part["mappings"], self.segments, where, sources, names)

    @property
    def size(self) -> int:
        """Bytes this map holds now (it grows as lines are split and positions remembered)."""
        return self._base + self._extra + len(self.memo) * MEMO_ENTRY_BYTES

    @property
    def line_count(self) -> int:
        """Generated lines the map covers."""
        return self.segments.lines

    def source_lines(self, index: int) -> Optional[List[str]]:
        """The lines of source ``index``'s content (split once), or None without content."""
        found = self._source_lines.get(index)
        if found is None:
            content = self.contents[index] if index < len(self.contents) else None
            if content is None:
                return None
            found = self._source_lines[index] = content.split("\n")
            self._extra += sys.getsizeof(content) + _LINE_BYTES * len(found)
        return found

    def lookup(self, line: int, column: int) -> Optional[Tuple[int, ...]]:
        """The segment covering generated ``line``/``column`` (0-based), or None."""
        return self.segments.lookup(line, column)

    def remember(self, key: Tuple, outcome: Tuple[Optional[Dict[str, Any]], str]) -> None:
        """Keep one resolved position (the oldest half forgotten when full)."""
        if len(self.memo) >= MEMO_ENTRIES:
            for old in list(self.memo)[: MEMO_ENTRIES // 2]:
                del self.memo[old]
        self.memo[key] = outcome

    def original_names(self, minified: Optional[str]) -> Dict[str, str]:
        """Minified identifier -> original name, from the named segments' positions in the
        minified source (built once)."""
        if self._tokens is None:
            self._tokens = {}
            if minified:
                text_lines = minified.split("\n")
                seg, names = self.segments, self.names
                for n, indexes in seg.by_line():
                    if n >= len(text_lines):
                        break
                    text = text_lines[n]
                    for i in indexes:
                        name = seg.name[i]
                        if 0 <= name < len(names):
                            m = _IDENT.match(text, seg.gen[i])
                            original = names[name]
                            if m and original:
                                self._tokens.setdefault(m.group(0), original)
                self._extra += 200 * len(self._tokens)
        return self._tokens


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


class Failed:
    """A map that could not be used, and why (cached like a parsed one)."""

    __slots__ = ("reason", "size")

    def __init__(self, reason: str) -> None:
        self.reason, self.size = reason, 100 + len(reason)


class Text:
    """A minified file's text (for function names), cached beside the maps."""

    __slots__ = ("text", "size")

    def __init__(self, text: Optional[str]) -> None:
        self.text, self.size = text, sys.getsizeof(text)


def parse_map(data: Optional[bytes]) -> Any:
    """A ``ParsedMap``, or ``Failed`` with the reason."""
    if data is None:
        return Failed("the map's bytes are gone")
    try:
        return ParsedMap(data)
    except (ValueError, MappingError, RecursionError, MemoryError) as exc:
        return Failed(f"the sourcemap does not parse ({str(exc)[:120]})")
    except Exception as exc:  # any other shape error means the same here
        return Failed(f"the sourcemap does not parse ({type(exc).__name__}: {str(exc)[:100]})")


class MapCache:
    """Parsed maps, minified texts and symbol tables by key, least recently used dropped past
    ``limit`` bytes of what they hold. An entry's ``size`` is read again each time it is
    used, so what it builds later is charged too."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self._items: "OrderedDict[Any, List[Any]]" = OrderedDict()  # key -> [value, charged]
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def charged(self) -> int:
        """Bytes charged for what the cache holds."""
        return self._bytes

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        """The cached value for ``key``, or ``build()`` (an object with ``size``)."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
                self._charge(entry)
                return entry[0]
        value = build()
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                entry = self._items[key] = [value, 0]
            self._charge(entry)
            return entry[0]

    def _charge(self, entry: List[Any]) -> None:
        size = int(entry[0].size)
        self._bytes += size - entry[1]
        entry[1] = size
        while self._bytes > self.limit and len(self._items) > 1:
            _, (_, charged) = self._items.popitem(last=False)
            self._bytes -= charged
