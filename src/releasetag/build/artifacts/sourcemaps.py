"""JavaScript sourcemaps: find JS files and their maps, derive debug IDs, inject them.

Debug ID (the same sentry-cli derives): SHA-1 over ``b"js" + u64le(len(js)) + js +
b"sourcemap" + u64le(len(map)) + map`` when the JS file has a map (the map's own bytes, decoded
for an inline ``data:`` map), over the JS bytes alone when it has none; the first 16 bytes with
the UUID version set to 5 and the RFC 4122 variant. A map that already carries ``debugId`` (or
``debug_id``) keeps it.

Injection: a one-line snippet that stores the ID in ``globalThis._sentryDebugIds[stack]`` goes
after any hashbang, leading comments and directive prologue; the map's mappings are shifted so
every original position still resolves; ``//# debugId=<id>`` ends the JS file and the map gets
``"debugId"``. A JS file without a map gets the snippet at its end (so positions that an
unseen map may describe do not move). Running inject again changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from releasetag.build.artifacts.mappings import MappingError, shift_map
from releasetag.protocol.errors import ArtifactError

if TYPE_CHECKING:
    from releasetag.build.artifacts.bundle import BundleFile


JS_EXTENSIONS = ("js", "cjs", "mjs")
MAP_EXTENSIONS = ("map",)

_SNIPPET = (
    ';(function(){{try{{var g=typeof globalThis!="undefined"?globalThis:'
    'typeof window!="undefined"?window:typeof self!="undefined"?self:'
    'typeof global!="undefined"?global:{{}};var s=(new g.Error).stack;'
    'if(s){{g._sentryDebugIds=g._sentryDebugIds||{{}};g._sentryDebugIds[s]="{id}";'
    'g._sentryDebugIdIdentifier="sentry-dbid-{id}"}}}}catch(e){{}}}})();'
)


class SourceMapError(ArtifactError):
    """A file cannot be processed; the message names what is wrong."""


def debug_id_from_hash(digest: bytes) -> str:
    """The first 16 bytes of a SHA-1 as a version-5, RFC 4122 variant UUID string."""
    return str(uuid.UUID(bytes=digest[:16], version=5))


def derive_debug_id(js: bytes, smap: Optional[bytes]) -> str:
    """The deterministic debug ID for a JS file and (optionally) its map's bytes."""
    if smap is None:
        return debug_id_from_hash(hashlib.sha1(js).digest())
    h = hashlib.sha1()
    h.update(b"js" + struct.pack("<Q", len(js)))
    h.update(js)
    h.update(b"sourcemap" + struct.pack("<Q", len(smap)))
    h.update(smap)
    return debug_id_from_hash(h.digest())


def normalize_debug_id(value: Any) -> Optional[str]:
    """A debug ID string in canonical lowercase hyphenated form, or None if not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value.strip()[:36]))
    except ValueError:
        return None


def snippet(debug_id: str) -> str:
    """The one-line JS statement that registers ``debug_id`` for the file it runs in."""
    return _SNIPPET.format(id=debug_id)


def js_debug_id(text: str) -> Optional[str]:
    """The ``//# debugId=`` of an already injected JS file (the last one; searched from the
    end, where it lives, so large files cost little)."""
    pos = len(text)
    while True:
        at = text.rfind("//# debugId=", 0, pos)
        if at < 0:
            return None
        if at == 0 or text[at - 1] == "\n":
            end = text.find("\n", at)
            found = normalize_debug_id(text[at + 12 : end if end >= 0 else len(text)].strip())
            if found:
                return found
        pos = at


def map_debug_id(smap: Dict[str, Any]) -> Optional[str]:
    return normalize_debug_id(smap.get("debugId")) or normalize_debug_id(smap.get("debug_id"))


_MAP_PREFIX = re.compile(r"[ \t]*//[#@][ \t]*")


def sourcemap_url(text: str) -> Optional[str]:
    """The last ``//# sourceMappingURL=`` (or ``//@``) of a JS file, searched from the end."""
    pos = len(text)
    while True:
        at = text.rfind("sourceMappingURL=", 0, pos)
        if at < 0:
            return None
        line_start = text.rfind("\n", 0, at) + 1
        if _MAP_PREFIX.fullmatch(text, line_start, at):
            end = text.find("\n", at)
            value = text[at + 17 : end if end >= 0 else len(text)].strip()
            if value and not any(ch.isspace() for ch in value):
                return value
        pos = at


def decode_data_url(url: str) -> Tuple[str, bytes]:
    """Split a ``data:`` URL into (preamble up to the comma, decoded bytes)."""
    head, comma, payload = url.partition(",")
    if not comma:
        raise SourceMapError("inline sourcemap data: URL has no comma")
    if head.endswith(";base64"):
        try:
            return head + ",", base64.b64decode(payload, validate=False)
        except ValueError as exc:  # binascii.Error is a ValueError
            raise SourceMapError(f"inline sourcemap is not valid base64 ({exc})") from None
    return head + ",", unquote(payload).encode("utf-8")


def encode_data_url(preamble: str, data: bytes) -> str:
    if preamble.endswith(";base64,"):
        return preamble + base64.b64encode(data).decode("ascii")
    from urllib.parse import quote

    return preamble + quote(data.decode("utf-8"), safe="")


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


def find_files(paths: Sequence[str], extensions: Sequence[str]) -> Iterator[str]:
    """Files under ``paths`` (folders walked in sorted order) whose extension matches."""
    exts = tuple("." + e.lstrip(".") for e in extensions)
    for top in paths:
        if os.path.isdir(top):
            for root, dirs, files in os.walk(top):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(exts):
                        yield os.path.join(root, name)
        else:
            yield top


def locate_map(js_path: str, text: str) -> Tuple[Optional[str], Optional[str]]:
    """(map path or ``data:`` URL, reference as written) for a JS file; (None, ref) when the
    referenced map does not exist; a ``<file>.map`` next to the file is used without a ref."""
    ref = sourcemap_url(text)
    if ref is not None:
        if ref.startswith("data:"):
            return ref, ref
        clean = unquote(ref.split("?", 1)[0].split("#", 1)[0])
        if "://" in clean:
            clean = clean.rsplit("/", 1)[-1]
        candidate = os.path.normpath(os.path.join(os.path.dirname(js_path), clean))
        return (candidate if os.path.isfile(candidate) else None), ref
    sibling = js_path + ".map"
    return (sibling if os.path.isfile(sibling) else None), None


def load_map(data: bytes, where: str) -> Dict[str, Any]:
    try:
        smap = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceMapError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(smap, dict) or not (
        isinstance(smap.get("mappings"), str) or isinstance(smap.get("sections"), list)
    ):
        raise SourceMapError(f"{where} is not a sourcemap (no mappings or sections)")
    return smap


def _dump_map(smap: Dict[str, Any]) -> bytes:
    return json.dumps(smap, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
    with open(js_path, "rb") as fh:
        js = fh.read()
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
        with open(where, "rb") as fh:
            map_bytes = fh.read()
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
                _write(where, _dump_map(smap))
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
            new_url = encode_data_url(preamble, _dump_map(smap))
            new_text = _replace_last_map_url(new_text, new_url)
    if not dry_run:
        if smap is not None and preamble is None and where is not None:
            _write(where, _dump_map(smap))
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
    """Inject debug IDs into every JS file under ``paths``."""
    return [inject_file(p, dry_run=dry_run) for p in find_files(paths, extensions)]


# --- collecting files for an upload -------------------------------------------------------

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
        """The files under folder ``top`` to upload, in sorted order."""
        for root, dirs, names in os.walk(top, followlinks=True):
            rel_root = os.path.relpath(root, top)
            rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and not self._ignored(root, rel_root + d, True)
            )
            for name in sorted(names):
                if name.startswith(".") or not name.endswith(self.exts):
                    continue
                if not self._ignored(root, rel_root + name, False):
                    yield os.path.join(root, name)

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
        if os.path.exists(path):
            out.append(path)
        elif _GLOB_CHARS & set(path):
            matched = sorted(glob.glob(path, recursive=True))
            if matched:
                out.extend(matched)
            else:
                problems.append(Problem(path, "no files match this pattern", fatal=True))
        else:
            problems.append(Problem(path, "no such file or directory", fatal=True))
    return out, problems


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
        files.append(_collect_js(path, url, by_path, validate, problems))
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
            with open(path, "rb") as fh:
                smap = load_map(fh.read(), "sourcemap")
            ident = map_debug_id(smap)
            _validate_sources(path, url, smap, urls, problems)
        else:  # a cheap look at both ends: truncated or non-JSON files are still caught
            ends, whole = _head_and_tail(path)
            ident = quick_map_debug_id(ends)
            if ident is None and not whole:  # the key may sit in the middle
                with open(path, "rb") as fh:
                    ident = quick_map_debug_id(fh.read())
    except (SourceMapError, OSError) as exc:
        problems.append(Problem(path, str(exc), fatal=True))
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
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if size <= 2 * _TAIL:
            return fh.read(), True
        head = fh.read(4096)
        fh.seek(size - _TAIL)
        return head + b"\n" + fh.read(), False


def _read_js_tail(path: str) -> str:
    """The end of a JS file, where its comments live; all of it when the end holds no
    sourceMappingURL (it may be a long inline map) or the file is small."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if size > _TAIL:
            fh.seek(size - _TAIL)
            tail = fh.read().decode("utf-8", "replace")
            if sourcemap_url(tail) is not None:
                return tail
            fh.seek(0)
        return fh.read().decode("utf-8", "replace")


def _looks_minified(text: str) -> bool:
    """Long average line length: what minifiers produce."""
    sample = text[:65536]
    lines = sample.count("\n") + 1
    return len(sample) > 500 and len(sample) / lines > 300
