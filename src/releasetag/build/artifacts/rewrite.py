"""Rewrite sourcemaps before upload, as sentry-cli does by default: indexed maps flattened,
missing ``sourcesContent`` filled from local files, prefixes stripped from ``sources``.

- ``--strip-prefix P`` (repeatable) removes ``P/`` from the start of every source reference
  that has it (the first matching prefix wins); ``--strip-common-prefix`` removes the longest
  directory prefix that all absolute source paths share. The uploaded file paths do not
  change.
- A source without content is read from the local file it names: relative references are
  resolved against the map's own folder (and ``sourceRoot``), as bundlers mean them;
  ``file://`` URLs and absolute paths as they are. Only regular files of at most
  ``MAX_SOURCE_BYTES`` whose real path (symbolic links resolved) lies inside a source root
  are read (the map's own folder when no root is given; the upload's folders and
  ``--source-root`` for the CLI): a map cannot make the upload embed ``/proc/self/environ``,
  ``~/.ssh`` or anything else outside the project. A source refused so is reported; one
  that does not exist or is not UTF-8 stays without content, as before.
- A map that needs none of this is uploaded byte for byte (so the bundle hash cache keeps
  working); a changed one is written to a temporary folder that lives as long as the upload.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from releasetag.build.artifacts.mappings import MappingError, vlq_encode
from releasetag.build.artifacts.sourcemaps import SourceMapError, dump_map, load_map
from releasetag.build.artifacts.walk import UnsafeFile, read_inside, read_regular, real_roots

Segment = Tuple[int, ...]  # (gen col[, src, line, col[, name]]), absolute values
MAX_SOURCE_BYTES = 10 * 1024 * 1024  # a local source larger than this is not inlined


class RewriteOptions:
    """What a rewrite does (sentry-cli's defaults: everything but stripping), and the folders
    sources may be read from (``source_roots``; none: each map's own folder)."""

    __slots__ = ("strip_prefixes", "strip_common_prefix", "load_sources", "source_roots")

    def __init__(
        self,
        strip_prefixes: Sequence[str] = (),
        strip_common_prefix: bool = False,
        load_sources: bool = True,
        source_roots: Sequence[str] = (),
    ) -> None:
        self.strip_prefixes = [p for p in strip_prefixes if p]
        self.strip_common_prefix = strip_common_prefix
        self.load_sources = load_sources
        self.source_roots = real_roots(source_roots)


Refused = List[Tuple[str, str]]  # (source as the map names it, why it was not read)


def rewrite_map(
    path: str,
    options: RewriteOptions,
    data: Optional[bytes] = None,
    refused: Optional[Refused] = None,
) -> Optional[bytes]:
    """The rewritten bytes of the map at ``path`` (its bytes ``data`` when already read), or
    None when it needs no change. Sources not read for safety land in ``refused``.

    Raises ``SourceMapError`` for a map that does not parse."""
    if data is None:
        data = read_regular(path)
    if complete(data, options):
        return None  # a regular map with every source's content: nothing to do, no parse
    smap = load_map(data, f"sourcemap {path}")
    changed = False
    if isinstance(smap.get("sections"), list):
        smap = flatten(smap)
        changed = True
    sources = smap.get("sources")
    if not isinstance(sources, list):
        return dump_map(smap) if changed else None
    root = smap.pop("sourceRoot", None)
    if isinstance(root, str) and root:
        sources = [join_root(root, s) if isinstance(s, str) else s for s in sources]
        changed = True
    contents = smap.get("sourcesContent")
    if not isinstance(contents, list):
        contents = []
    contents = (contents + [None] * len(sources))[: len(sources)]
    if options.load_sources:
        changed = _fill_contents(path, sources, contents, options, refused) or changed
    changed = _strip(sources, options) or changed
    if not changed:
        return None
    smap["sources"] = sources
    if any(c is not None for c in contents):
        smap["sourcesContent"] = contents
    return dump_map(smap)


def _fill_contents(
    path: str,
    sources: List[Any],
    contents: List[Any],
    options: RewriteOptions,
    refused: Optional[Refused],
) -> bool:
    """Read the sources without content from local files (inside the roots); True when any
    content was added."""
    base = os.path.dirname(os.path.abspath(path))
    roots = options.source_roots or real_roots([base])
    added = False
    for i, source in enumerate(sources):
        if contents[i] is not None or not isinstance(source, str):
            continue
        try:
            text = _read_local(base, source, roots)
        except UnsafeFile as exc:
            if refused is not None:
                refused.append((source, str(exc)))
            continue
        if text is not None:
            contents[i] = text
            added = True
    return added


def _strip(sources: List[Any], options: RewriteOptions) -> bool:
    """Remove the prefixes ``options`` asks for from ``sources``; True when any changed."""
    prefixes = [p if p.endswith("/") else p + "/" for p in options.strip_prefixes]
    if options.strip_common_prefix:
        common = common_prefix(s for s in sources if isinstance(s, str))
        if common:
            prefixes.append(common + "/")
    changed = False
    for i, source in enumerate(sources):
        if isinstance(source, str):
            for prefix in prefixes:
                if source.startswith(prefix):
                    sources[i] = source[len(prefix) :]
                    changed = True
                    break
    return changed


def complete(data: bytes, options: RewriteOptions) -> bool:
    """True when the map's bytes show it needs no rewrite without parsing it: no prefixes
    to strip, not indexed, no ``sourceRoot``, and ``sourcesContent`` without a null."""
    return (
        not options.strip_prefixes
        and not options.strip_common_prefix
        and b'"sourcesContent"' in data
        and b"null" not in data
        and b'"sections"' not in data
        and b'"sourceRoot"' not in data
    )


def join_root(root: str, source: str) -> str:
    """``source`` under the map's ``sourceRoot`` (absolute paths and URLs stay as they are)."""
    if "://" in source or source.startswith("/"):
        return source
    return root.rstrip("/") + "/" + source


def _read_local(base: str, source: str, roots: Sequence[str]) -> Optional[str]:
    """The text of the local file a source reference names, or None when there is none (or
    it is not UTF-8); raises ``UnsafeFile`` for a file outside ``roots``, a special file
    or one over ``MAX_SOURCE_BYTES``."""
    if source.startswith("file://"):
        local = unquote(urlsplit(source).path)
    elif "://" in source or source.startswith(("webpack:", "data:")):
        return None
    else:
        local = os.path.join(base, unquote(source.split("?", 1)[0]))
    if "\x00" in local:
        return None
    try:
        return read_inside(local, roots, MAX_SOURCE_BYTES).decode("utf-8")
    except UnsafeFile:
        raise
    except (OSError, UnicodeDecodeError):
        return None


def common_prefix(sources: Any) -> Optional[str]:
    """The longest directory prefix shared by all absolute paths among ``sources`` (without
    the trailing slash); None when there is none, or only ``/``. As sentry-cli's: a single
    source's prefix is the whole path, which strips nothing."""
    split = [_split_path(s) for s in sources if _is_abs(s)]
    if not split:
        return None
    split.sort(key=len)
    shortest = split[0]
    n = len(shortest)
    for parts in split[1:]:
        i = 0
        while i < n and i < len(parts) and parts[i] == shortest[i]:
            i += 1
        n = i
    prefix = "".join(shortest[:n])
    return prefix if prefix and prefix != "/" else None


def _is_abs(path: str) -> bool:
    return path.startswith("/") or (
        len(path) > 3 and path[1] == ":" and path[2] in "/\\" and path[0].isalpha()
    )


def _split_path(path: str) -> List[str]:
    """``/a/b/c.js`` -> ``["", "/a", "/b", "/c.js"]`` (each part keeps its separator)."""
    parts, last = [], 0
    for i, ch in enumerate(path):
        if ch in "/\\":
            parts.append(path[last:i])
            last = i
    if last < len(path):
        parts.append(path[last:])
    return parts


# --- indexed maps -------------------------------------------------------------------------
def decode_mappings(mappings: str) -> List[List[Segment]]:
    """Base64 VLQ ``mappings`` as absolute segments per generated line."""
    from releasetag.build.artifacts.mappings import _B64_VALUE

    lines: List[List[Segment]] = []
    src = line = col = name = 0
    for text in mappings.split(";"):
        segments: List[Segment] = []
        gen = 0
        for seg in text.split(","):
            if not seg:
                continue
            values: List[int] = []
            value = shift = 0
            for ch in seg:
                digit = _B64_VALUE.get(ch)
                if digit is None:
                    raise MappingError(f"invalid character {ch!r} in mappings")
                value += (digit & 31) << shift
                if digit & 32:
                    shift += 5
                    continue
                values.append(-(value >> 1) if value & 1 else value >> 1)
                value = shift = 0
            if shift or len(values) not in (1, 4, 5):
                raise MappingError(f"malformed mappings segment {seg!r}")
            gen += values[0]
            if len(values) == 1:
                segments.append((gen,))
                continue
            src += values[1]
            line += values[2]
            col += values[3]
            if len(values) == 5:
                name += values[4]
                segments.append((gen, src, line, col, name))
            else:
                segments.append((gen, src, line, col))
        lines.append(segments)
    return lines


def encode_mappings(lines: List[List[Segment]]) -> str:
    """Absolute segments per generated line back to Base64 VLQ."""
    out = []
    src = line = col = name = 0
    for segments in lines:
        parts = []
        gen = 0
        for seg in segments:
            text = vlq_encode(seg[0] - gen)
            gen = seg[0]
            if len(seg) >= 4:
                text += vlq_encode(seg[1] - src) + vlq_encode(seg[2] - line)
                text += vlq_encode(seg[3] - col)
                src, line, col = seg[1], seg[2], seg[3]
                if len(seg) == 5:
                    text += vlq_encode(seg[4] - name)
                    name = seg[4]
            parts.append(text)
        out.append(",".join(parts))
    return ";".join(out)


def flatten(index: Dict[str, Any]) -> Dict[str, Any]:
    """One regular map for an indexed map (``sections`` with offsets; nested indexes too)."""
    sources: List[Any] = []
    contents: List[Any] = []
    names: List[str] = []
    source_ids: Dict[Any, int] = {}  # the same source in two sections is one source
    name_ids: Dict[str, int] = {}
    lines: List[List[Segment]] = []
    for section in index.get("sections") or []:
        if not isinstance(section, dict):
            raise SourceMapError("an indexed map's section is not an object")
        offset = section.get("offset") or {}
        try:
            dline, dcol = int(offset.get("line", 0)), int(offset.get("column", 0))
        except (TypeError, ValueError):
            raise SourceMapError("an indexed map's section has a bad offset") from None
        part = section.get("map")
        if not isinstance(part, dict):
            raise SourceMapError("an indexed map's section has no embedded map")
        if isinstance(part.get("sections"), list):
            part = flatten(part)
        if not isinstance(part.get("mappings"), str):
            raise SourceMapError("an indexed map's section map has no mappings")
        root = part.get("sourceRoot") if isinstance(part.get("sourceRoot"), str) else ""
        part_sources = [
            join_root(root, s) if root and isinstance(s, str) else s
            for s in part.get("sources") or []
        ]
        part_contents = list(part.get("sourcesContent") or [])
        part_names = list(part.get("names") or [])
        for n, segments in enumerate(decode_mappings(part["mappings"])):
            target = dline + n
            while len(lines) <= target:
                lines.append([])
            shift = dcol if n == 0 else 0
            for seg in segments:
                gen = seg[0] + shift
                if len(seg) == 1:
                    lines[target].append((gen,))
                    continue
                try:
                    source = part_sources[seg[1]]
                except IndexError:
                    raise SourceMapError("a section's mapping names a missing source") from None
                content = part_contents[seg[1]] if seg[1] < len(part_contents) else None
                sid = source_ids.get(source)
                if sid is None:
                    sid = source_ids[source] = len(sources)
                    sources.append(source)
                    contents.append(content)
                elif contents[sid] is None:
                    contents[sid] = content
                if len(seg) == 5:
                    try:
                        nm = part_names[seg[4]]
                    except IndexError:
                        raise SourceMapError("a section's mapping names a missing name") from None
                    nid = name_ids.get(nm)
                    if nid is None:
                        nid = name_ids[nm] = len(names)
                        names.append(nm)
                    lines[target].append((gen, sid, seg[2], seg[3], nid))
                else:
                    lines[target].append((gen, sid, seg[2], seg[3]))
    for segments in lines:
        segments.sort(key=lambda s: s[0])
    flat: Dict[str, Any] = {"version": 3}
    if isinstance(index.get("file"), str):
        flat["file"] = index["file"]
    flat.update(sources=sources, names=names, mappings=encode_mappings(lines))
    if any(c is not None for c in contents):
        flat["sourcesContent"] = contents
    for key in ("debugId", "debug_id"):
        if key in index:
            flat[key] = index[key]
    return flat


class RewriteReport(NamedTuple):
    """What :func:`rewrite_files` did: maps changed, maps it could not rewrite (path,
    problem), and sources left without content for safety (map path, source, why)."""

    changed: int
    problems: List[Tuple[str, str]]
    refused: List[Tuple[str, str, str]]


def rewrite_files(
    files: Sequence[Any],
    options: RewriteOptions,
    folder: str,
    cache_folder: Optional[str] = None,
) -> RewriteReport:
    """Rewrite the ``source_map`` entries of ``files`` in place (their ``path`` moves to a
    rewritten copy in ``folder``).

    With ``cache_folder``, maps found complete (``complete``) are remembered by path, size,
    modification and status-change times and inode, as the bundle hash cache trusts files:
    an unchanged re-upload does not read them again."""
    report = RewriteReport(0, [], [])
    changed = 0
    seen = _Verdicts(cache_folder) if cache_folder and not options.strip_prefixes else None
    for n, bf in enumerate(files):
        if bf.type != "source_map":
            continue
        key = seen.key(bf.path, options) if seen else None
        if key and seen and seen.known(key):
            continue
        refused: Refused = []
        try:
            data = read_regular(bf.path)
            if complete(data, options):
                if key and seen:
                    seen.add(key)
                continue
            new = rewrite_map(bf.path, options, data, refused)
        except (SourceMapError, MappingError, OSError) as exc:
            report.problems.append((bf.path, str(exc)))
            continue
        report.refused.extend((bf.path, source, why) for source, why in refused)
        if new is None:
            continue
        target = os.path.join(folder, f"{n}-{os.path.basename(bf.path)}")
        with open(target, "wb") as fh:
            fh.write(new)
        bf.path = target
        changed += 1
    if seen:
        seen.save()
    return report._replace(changed=changed)


class _Verdicts:
    """Maps known to need no rewrite, by file identity (one small JSON file)."""

    KEEP = 50000
    FRESH_NS = 1_000_000_000  # files changed this recently are not trusted yet

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, "complete-maps.json")
        try:
            with open(self.path, encoding="utf-8") as fh:
                loaded = json.load(fh)
            self.keys = dict.fromkeys(loaded if isinstance(loaded, list) else [])
        except (OSError, ValueError):
            self.keys = {}
        self.dirty = False

    def key(self, path: str, options: RewriteOptions) -> Optional[str]:
        import time

        try:
            st = os.stat(path)
        except OSError:
            return None
        if max(st.st_mtime_ns, st.st_ctime_ns) > time.time_ns() - self.FRESH_NS:
            return None
        flags = f"{int(options.strip_common_prefix)}{int(options.load_sources)}"
        ident = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        return flags + ":" + "\0".join(str(v) for v in ident)

    def known(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str) -> None:
        self.keys[key] = None
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        keys = list(self.keys)[-self.KEEP :]
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            tmp = f"{self.path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(keys, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache: the next upload reads the maps again
