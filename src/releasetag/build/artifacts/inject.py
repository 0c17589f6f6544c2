"""``sourcemaps inject``: debug IDs into JS files and their maps.

A one-line snippet that stores the ID in ``globalThis._sentryDebugIds[stack]`` goes after any
hashbang, leading comments and directive prologue; the map's mappings are shifted so every
original position still resolves; ``//# debugId=<id>`` ends the JS file and the map gets
``"debugId"``. A JS file without a map gets the snippet at its end (so positions that an
unseen map may describe do not move). Running inject again changes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence

from releasetag.build.artifacts.mappings import MappingError, shift_map
from releasetag.build.artifacts.sourcemaps import (
    JS_EXTENSIONS,
    SourceMapError,
    decode_data_url,
    derive_debug_id,
    dump_map,
    encode_data_url,
    js_debug_id,
    load_map,
    locate_map,
    map_debug_id,
    sourcemap_url,
)
from releasetag.build.artifacts.walk import Walk, read_regular, shown, top_problem

_SNIPPET = (
    ';(function(){{try{{var g=typeof globalThis!="undefined"?globalThis:'
    'typeof window!="undefined"?window:typeof self!="undefined"?self:'
    'typeof global!="undefined"?global:{{}};var s=(new g.Error).stack;'
    'if(s){{g._sentryDebugIds=g._sentryDebugIds||{{}};g._sentryDebugIds[s]="{id}";'
    'g._sentryDebugIdIdentifier="sentry-dbid-{id}"}}}}catch(e){{}}}})();'
)


def snippet(debug_id: str) -> str:
    """The one-line JS statement that registers ``debug_id`` for the file it runs in."""
    return _SNIPPET.format(id=debug_id)


def insertion_point(text: str) -> int:
    """Offset after a hashbang, leading comments and whitespace, and a directive prologue."""
    pos, n = 0, len(text)
    if text.startswith("\ufeff"):
        pos = 1
    if text.startswith("#!", pos):
        nl = text.find("\n", pos)
        pos = n if nl < 0 else nl + 1
    pos = _skip_trivia(text, pos)
    while pos < n and text[pos] in "'\"":
        end = _string_end(text, pos)
        if end < 0:
            break
        after = _skip_trivia(text, end, newlines=False)
        if after < n and text[after] == ";":
            after += 1
        elif not (after >= n or text[after] in "\r\n}"):
            break  # a string expression such as "abc".length: not a directive
        pos = _skip_trivia(text, after)
    return _back_to_line_end(text, pos)


def _back_to_line_end(text: str, pos: int) -> int:
    """Move back over whitespace so that the point sits at the start of its line if the
    line holds nothing else before it, else right after the last token."""
    back = pos
    while back > 0 and text[back - 1] in " \t\r\n":
        back -= 1
    nl = text.rfind("\n", back, pos)
    return nl + 1 if nl >= 0 else back


def _skip_trivia(text: str, pos: int, newlines: bool = True) -> int:
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in " \t\ufeff" or (newlines and ch in "\r\n\u2028\u2029"):
            pos += 1
        elif text.startswith("//", pos):
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl  # the newline itself is handled above
            if not newlines:
                return pos
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                return pos
            if not newlines and "\n" in text[pos:end]:
                return pos
            pos = end + 2
        else:
            break
    return pos


def _string_end(text: str, pos: int) -> int:
    quote, i, n = text[pos], pos + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if ch in "\r\n":
            return -1
        i += 1
    return -1


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class InjectResult:
    """What inject did (or would do, with dry_run) to one JS file."""

    js_path: str
    debug_id: Optional[str] = None
    map_path: Optional[str] = None  # file path, "inline" for a data: map, None without one
    action: str = "injected"  # injected | already injected | skipped | error
    message: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {
            "path": self.js_path,
            "debug_id": self.debug_id,
            "sourcemap": self.map_path,
            "action": self.action,
            "message": self.message,
        }


def find_files(
    paths: Sequence[str], extensions: Sequence[str], skipped: List[InjectResult]
) -> Iterator[str]:
    """Regular files under ``paths`` (folders walked in sorted order, each real folder once)
    whose extension matches; what cannot be used lands in ``skipped`` (an ``error`` for a
    path named, ``skipped`` for one found walking)."""
    exts = tuple("." + e.lstrip(".") for e in extensions)
    for top in paths:
        why = top_problem(top)
        if why:
            skipped.append(InjectResult(shown(top), action="error", message=why))
        elif os.path.isdir(top):
            walk = Walk(lambda _root, rel, is_dir: is_dir or rel.endswith(exts))
            yield from walk.files(top)
            for item in walk.skipped:
                skipped.append(
                    InjectResult(shown(item.path), action="skipped", message=item.message)
                )
        else:
            yield top


def inject_file(js_path: str, dry_run: bool = False) -> InjectResult:
    """Inject a debug ID into one JS file and its map; never raises for bad input."""
    result = InjectResult(js_path)
    try:
        return _inject(js_path, dry_run, result)
    except (SourceMapError, MappingError) as exc:
        result.action, result.message = "error", str(exc)
    except OSError as exc:
        result.action, result.message = "error", f"cannot read or write: {exc.strerror or exc}"
    return result


def _inject(js_path: str, dry_run: bool, result: InjectResult) -> InjectResult:
    js = read_regular(js_path)
    try:
        text = js.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceMapError("file is not UTF-8 text") from None
    existing = js_debug_id(text)
    where, ref = locate_map(js_path, text)
    if ref and where is None:
        result.message = f"referenced sourcemap {ref} not found; injected without a map"
    map_bytes: Optional[bytes] = None
    preamble = None
    if where is not None and where.startswith("data:"):
        preamble, map_bytes = decode_data_url(where)
        result.map_path = "inline"
    elif where is not None:
        map_bytes = read_regular(where)
        result.map_path = where
    smap = (
        load_map(
            map_bytes, (result.map_path or js_path) if preamble is None else "inline sourcemap"
        )
        if map_bytes is not None
        else None
    )
    if existing:
        result.debug_id, result.action = existing, "already injected"
        if smap is not None and map_debug_id(smap) is None and preamble is None:
            smap["debugId"] = existing  # a map regenerated after injection: re-link it
            if not dry_run and where is not None:
                _write(where, dump_map(smap))
            result.message = "sourcemap had no debugId; added"
        return result
    debug_id = (map_debug_id(smap) if smap is not None else None) or derive_debug_id(js, map_bytes)
    result.debug_id = debug_id
    line_snippet = snippet(debug_id)
    if smap is None:
        new_text = (
            text
            + ("" if text.endswith("\n") or not text else "\n")
            + line_snippet
            + f"\n//# debugId={debug_id}\n"
        )
    else:
        at = insertion_point(text)
        line = text.count("\n", 0, at)
        line_start = text.rfind("\n", 0, at) + 1
        column = _utf16_len(text[line_start:at])
        if column == 0:
            new_text = text[:at] + line_snippet + "\n" + text[at:]
            shift_map(smap, line, 0, 1)
        else:
            new_text = text[:at] + "\n" + line_snippet + "\n" + text[at:]
            shift_map(smap, line, column, 2)
        smap["debugId"] = debug_id
        new_text += ("" if new_text.endswith("\n") else "\n") + f"//# debugId={debug_id}\n"
        if preamble is not None:
            new_url = encode_data_url(preamble, dump_map(smap))
            new_text = _replace_last_map_url(new_text, new_url)
    if not dry_run:
        if smap is not None and preamble is None and where is not None:
            _write(where, dump_map(smap))
        _write(js_path, new_text.encode("utf-8"))
    return result


def _replace_last_map_url(text: str, new_url: str) -> str:
    old = sourcemap_url(text)
    if old is None:
        return text
    at = text.rfind("sourceMappingURL=" + old)
    return text[: at + 17] + new_url + text[at + 17 + len(old) :]


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.releasetag-tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def inject(
    paths: Sequence[str], extensions: Sequence[str] = JS_EXTENSIONS, dry_run: bool = False
) -> List[InjectResult]:
    """Inject debug IDs into every JS file under ``paths`` (paths that cannot be used are
    ``error`` results, files left out of a walk ``skipped`` ones)."""
    skipped: List[InjectResult] = []
    done = [inject_file(p, dry_run=dry_run) for p in find_files(paths, extensions, skipped)]
    return skipped + done
