"""Collecting files for ``sourcemaps upload``: which files, their URLs, types and headers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from releasetag.build.artifacts.sourcemaps import (
    SourceMapError,
    js_debug_id,
    load_map,
    locate_map,
    map_debug_id,
    normalize_debug_id,
    sourcemap_url,
)
from releasetag.build.artifacts.walk import (
    MAX_READ,
    Skipped,
    Walk,
    open_regular,
    read_at_most,
    read_regular,
    shown,
    top_problem,
)

if TYPE_CHECKING:
    from releasetag.build.artifacts.bundle import BundleFile

UPLOAD_EXTENSIONS = ("js", "cjs", "mjs", "map", "jsbundle", "bundle")  # sentry-cli's


@dataclass
class Problem:
    """Something wrong with one file (``fatal``: it cannot be uploaded as asked)."""

    path: str
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _relative(path: str, top: str, top_is_dir: bool) -> str:
    if not top_is_dir:
        return os.path.basename(path)
    if path.startswith(top):  # found by walking top: a cheap slice instead of relpath
        rel = path[len(top) :].lstrip(os.sep)
    else:
        rel = os.path.relpath(path, top)
    return rel.replace(os.sep, "/")


def make_url(
    rel: str,
    url_prefix: str = "~",
    url_suffix: str = "",
    strip_path_prefix: Optional[str] = None,
) -> str:
    """The URL an uploaded file is served under: ``<prefix>/<path><suffix>``, with one
    trailing slash of the prefix dropped (``~/`` is ``~``, ``app:///`` is ``app://``), as
    sentry-cli builds it; ``strip_path_prefix`` is first cut from the relative path."""
    if strip_path_prefix:
        sp = strip_path_prefix.replace(os.sep, "/").strip("/") + "/"
        if rel.startswith(sp):
            rel = rel[len(sp) :]
    prefix = url_prefix if url_prefix is not None else "~"
    if prefix.endswith("/"):
        prefix = prefix[:-1]
    url = f"{prefix}/{rel.lstrip('/')}{url_suffix or ''}"
    if has_dot_segments(url):
        raise SourceMapError(f"the URL {url!r} has a '.' or '..' segment")
    return url


def has_dot_segments(url: str) -> bool:
    """True when the path of ``url`` has a ``.`` or ``..`` segment (``~/../etc``)."""
    path = url[2:] if url.startswith("~/") else urlsplit(url).path
    return any(part in (".", "..") for part in path.replace("\\", "/").split("/"))


class Selection:
    """Which files of a walked folder are uploaded: extensions, ``-i`` globs and an ignore
    file, in gitignore syntax (pathspec); hidden files and folders are skipped, as
    sentry-cli's walk does. Files named on the command line are always taken."""

    def __init__(
        self,
        extensions: Sequence[str] = (),
        ignores: Sequence[str] = (),
        ignore_file: Optional[str] = None,
    ) -> None:
        self.exts = tuple("." + e.lstrip(".") for e in extensions)
        self.skipped: List[Skipped] = []
        self._ignores = _spec(ignores) if ignores else None
        self._file_spec = None
        self._file_base = ""
        if ignore_file:
            try:
                with open(ignore_file, encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise SourceMapError(
                    f"cannot read the ignore file {ignore_file}: "
                    f"{getattr(exc, 'strerror', None) or exc}"
                ) from None
            self._file_spec = _spec(lines)
            self._file_base = os.path.dirname(os.path.abspath(ignore_file))

    def walk(self, top: str) -> Iterator[str]:
        """The files under folder ``top`` to upload, in sorted order (each real folder once,
        regular files only; what is left out for a reason lands in ``skipped``)."""
        walk = Walk(self._keep)
        try:
            yield from walk.files(top)
        finally:
            self.skipped.extend(walk.skipped)

    def _keep(self, root: str, rel: str, is_dir: bool) -> bool:
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".") or not (is_dir or name.endswith(self.exts)):
            return False
        return not self._ignored(root, rel, is_dir)

    def _ignored(self, root: str, rel: str, is_dir: bool) -> bool:
        tail = "/" if is_dir else ""
        if self._ignores is not None and self._ignores.match_file(rel + tail):
            return True
        if self._file_spec is not None:
            name = rel.rsplit("/", 1)[-1]
            full = os.path.join(os.path.abspath(root), name)
            local = os.path.relpath(full, self._file_base).replace(os.sep, "/")
            if not local.startswith("../") and self._file_spec.match_file(local + tail):
                return True
        return False


def _spec(lines: Sequence[str]) -> Any:
    try:
        import pathspec
    except ImportError:  # pragma: no cover - a declared dependency
        raise SourceMapError("-i/--ignore and -I/--ignore-file need the pathspec package") from None
    return pathspec.GitIgnoreSpec.from_lines(lines)


_GLOB_CHARS = frozenset("*?[")


def expand_paths(paths: Sequence[str]) -> Tuple[List[str], List[Problem]]:
    """Paths as given, globs expanded (sorted); a path or glob naming nothing is a problem."""
    import glob

    out: List[str] = []
    problems: List[Problem] = []
    for path in paths:
        if os.path.exists(path) or os.path.islink(path):
            matched = [path]
        elif _GLOB_CHARS & set(path):
            matched = sorted(glob.glob(path, recursive=True))
            if not matched:
                problems.append(Problem(path, "no files match this pattern", fatal=True))
        else:
            problems.append(Problem(path, "no such file or directory", fatal=True))
            continue
        for found in matched:
            why = top_problem(found)
            if why:
                problems.append(Problem(shown(found), why, fatal=True))
            else:
                out.append(found)
    return out, problems


def upload_roots(paths: Sequence[str]) -> List[str]:
    """The folders an upload of ``paths`` takes files from: each folder named, and the
    folder of each file named (the default source roots of the map rewrite)."""
    tops, _ = expand_paths(paths)
    roots = [top if os.path.isdir(top) else (os.path.dirname(top) or ".") for top in tops]
    return list(dict.fromkeys(roots))


def collect(
    paths: Sequence[str],
    extensions: Sequence[str] = UPLOAD_EXTENSIONS,
    url_prefix: str = "~",
    url_suffix: str = "",
    strip_path_prefix: Optional[str] = None,
    validate: bool = False,
    *,
    ignores: Sequence[str] = (),
    ignore_file: Optional[str] = None,
    sourcemap_reference: bool = True,
    debug_id_reference: bool = False,
) -> Tuple[List["BundleFile"], List[Problem]]:
    """The files to upload under ``paths`` with their types and headers, plus problems found.

    Maps that do not parse are always a problem (they are skipped); with ``validate`` also
    sources a map names without content or an uploaded file, and minified files whose map
    is missing. Minified files name their map in a ``sourcemap`` header, as sentry-cli
    writes it (unless ``sourcemap_reference`` is off); with ``debug_id_reference`` one
    without a debug ID of its own takes its map's.
    """
    selection = Selection(extensions, ignores, ignore_file)
    tops, problems = expand_paths(paths)
    found: List[Tuple[str, str]] = []  # (path, url)
    for top in tops:
        top_is_dir = os.path.isdir(top)
        for path in selection.walk(top) if top_is_dir else [top]:
            found.append(
                (
                    path,
                    make_url(
                        _relative(path, top, top_is_dir), url_prefix, url_suffix, strip_path_prefix
                    ),
                )
            )
    problems.extend(Problem(shown(s.path), s.message) for s in selection.skipped)
    by_path = {os.path.abspath(p): u for p, u in found}
    urls = set(by_path.values())
    files: List[BundleFile] = []
    map_ids: Dict[str, Optional[str]] = {}
    for path, url in found:
        if path.endswith(".map"):
            bf = _collect_map(path, url, urls, validate, problems)
            if bf is not None:
                map_ids[os.path.abspath(path)] = bf.debug_id
                files.append(bf)
            continue
        try:
            files.append(_collect_js(path, url, by_path, validate, problems))
        except OSError as exc:
            problems.append(Problem(shown(path), f"cannot read: {exc.strerror or exc}", fatal=True))
    for bf in files:
        if bf.type != "minified_source":
            continue
        if not sourcemap_reference:
            bf.headers.pop("sourcemap", None)
        if debug_id_reference and "debug-id" not in bf.headers:
            if bf.map_path and map_ids.get(bf.map_path):
                bf.headers["debug-id"] = map_ids[bf.map_path]  # type: ignore[assignment]
    return files, problems


def _collect_map(
    path: str, url: str, urls: set, validate: bool, problems: List[Problem]
) -> Optional["BundleFile"]:
    from releasetag.build.artifacts.bundle import BundleFile

    headers: Dict[str, str] = {}
    try:
        if validate:  # a full parse: every problem inside the map is found
            smap = load_map(read_regular(path), "sourcemap")
            ident = map_debug_id(smap)
            _validate_sources(path, url, smap, urls, problems)
        else:  # a cheap look at both ends: truncated or non-JSON files are still caught
            ends, whole = _head_and_tail(path)
            ident = quick_map_debug_id(ends)
            if ident is None and not whole:  # the key may sit in the middle
                ident = quick_map_debug_id(read_regular(path))
    except (SourceMapError, OSError) as exc:
        problems.append(Problem(shown(path), str(exc), fatal=True))
        return None
    if ident:
        headers["debug-id"] = ident
    return BundleFile(path, url, "source_map", headers)


_MAP_ID = re.compile(rb'"(?:debugId|debug_id)"\s*:\s*"([0-9a-fA-F-]{32,36})"')


def quick_map_debug_id(data: bytes) -> Optional[str]:
    """A map's debug ID without parsing all of it (the key is searched from the end, where
    inject puts it); raises SourceMapError for data that is plainly not a JSON object."""
    head, tail = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n"), data[-64:].rstrip()
    if not head.startswith(b"{") or not tail.endswith(b"}"):
        raise SourceMapError("sourcemap is not valid JSON (not a complete JSON object)")
    for key in (b'"debugId"', b'"debug_id"'):
        at = data.rfind(key)
        if at >= 0:
            m = _MAP_ID.match(data, at)
            if m:
                return normalize_debug_id(m.group(1).decode("ascii"))
    return None


def _validate_sources(
    path: str, url: str, smap: Dict[str, Any], urls: set, problems: List[Problem]
) -> None:
    maps = (
        [s.get("map") for s in smap.get("sections", []) if isinstance(s, dict)]
        if "sections" in smap
        else [smap]
    )
    base = url.rsplit("/", 1)[0]
    for m in maps:
        if not isinstance(m, dict):
            continue
        sources = m.get("sources") or []
        contents = m.get("sourcesContent") or []
        root = m.get("sourceRoot") or ""
        for i, src in enumerate(sources):
            if i < len(contents) and contents[i] is not None:
                continue
            if not isinstance(src, str):
                continue
            joined = (
                src
                if "://" in src or src.startswith("~/")
                else os.path.normpath(f"{base}/{root}/{src}".replace("//", "/")).replace(
                    os.sep, "/"
                )
            )
            if joined not in urls:
                problems.append(
                    Problem(
                        path,
                        f"source {src!r} is missing: neither embedded "
                        "in sourcesContent nor uploaded",
                    )
                )


def _collect_js(
    path: str, url: str, by_path: Dict[str, str], validate: bool, problems: List[Problem]
) -> "BundleFile":
    from releasetag.build.artifacts.bundle import BundleFile

    text = _read_js_tail(path)
    headers: Dict[str, str] = {}
    ident = js_debug_id(text)
    if ident:
        headers["debug-id"] = ident
    ref = sourcemap_url(text)
    map_path = None
    if ref is not None and not ref.startswith("data:"):
        headers["sourcemap"] = ref
        where, _ = locate_map(path, text)
        map_path = os.path.abspath(where) if where else None
        if validate and (map_path is None or map_path not in by_path):
            problems.append(Problem(path, f"its sourcemap {ref} is missing from the upload"))
    elif ref is None:
        sibling = os.path.abspath(path + ".map")
        if sibling in by_path:
            headers["sourcemap"] = by_path[sibling].rsplit("/", 1)[-1]
            map_path = sibling
    if validate and ref is None and map_path is None and (ident or _looks_minified(text)):
        problems.append(Problem(path, "minified file without a sourcemap"))
    # every JS file is a minified source, as sentry-cli uploads them (whether a file was
    # minified used to be guessed; the server treats both alike)
    return BundleFile(path, url, "minified_source", headers, map_path=map_path)


_TAIL = 8 * 1024  # comments and an injected debugId live at the very end


def _head_and_tail(path: str) -> Tuple[bytes, bool]:
    """(the whole file, True) when small, else (its first 4 KiB + a newline + its last
    8 KiB, False)."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= 2 * _TAIL:
            return read_at_most(fh, 2 * _TAIL), True
        head = fh.read(4096)
        fh.seek(size - _TAIL)
        return head + b"\n" + fh.read(_TAIL), False


def _read_js_tail(path: str) -> str:
    """The end of a JS file, where its comments live; all of it when the end holds no
    sourceMappingURL (it may be a long inline map) or the file is small."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > _TAIL:
            fh.seek(size - _TAIL)
            tail = fh.read(_TAIL).decode("utf-8", "replace")
            if sourcemap_url(tail) is not None:
                return tail
            fh.seek(0)
        return read_at_most(fh, MAX_READ)[:MAX_READ].decode("utf-8", "replace")


def _looks_minified(text: str) -> bool:
    """Long average line length: what minifiers produce."""
    sample = text[:65536]
    lines = sample.count("\n") + 1
    return len(sample) > 500 and len(sample) / lines > 300
