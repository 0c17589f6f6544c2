"""JavaScript frames turned back into the code people wrote, at ingest, through the uploaded
sourcemaps.

For each exception frame with ``abs_path``, ``lineno`` and ``colno``:

1. **debug ID**: the event's ``debug_meta.images`` of type ``sourcemap`` name a debug ID per
   minified file (``code_file``); the source map with that debug ID is looked up among the
   uploaded artifacts (the newest when it was uploaded twice);
2. **release**: otherwise (or when that finds nothing) the event's release and dist, and the
   frame's URL matched against the release's file names (``~/path`` or the full URL); the
   minified file's ``sourcemap`` header (or ``<name>.map``) names its map;
3. the map's segment at the frame's position gives the original file, line and column; the
   function name is the original name the map gives the frame's minified function name at
   the places that token appears in the minified file (its declaration); an anonymous frame
   stays anonymous. Source context comes from ``sourcesContent``, else from an uploaded file
   the source names (beside the map).

The original frames are kept as ``raw_stacktrace``; every frame records in
``data.resolution`` whether it resolved and, unless it simply resolved by its first lookup,
the steps tried and why they failed, which ``releasetag sourcemaps explain`` prints. Maps
are parsed once and kept in a cache bounded by their size.
Nothing here raises into ingest: a frame that cannot be resolved stays as it was, with the
reason.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urljoin, urlsplit

from releasetag.protocol.log import internal_error

from .mapcache import CACHE_BYTES, Failed, MapCache, ParsedMap, Text, parse_map

__all__ = ["CACHE_BYTES", "Failed", "MapCache", "ParsedMap", "Resolver", "Text", "parse_map"]

CONTEXT_LINES = 5
LOOKUPS = 20000  # file lookups remembered until an upload changes the artifacts
# what one event may cost: frames looked at, distinct files looked up, seconds
BUDGET_FRAMES, BUDGET_FILES, BUDGET_SECONDS = 1000, 100, 2.0
NEAREST_FILES = 5  # missing files given the nearest uploaded names, per request
NOT_AMONG = "not among"
EXHAUSTED = "resolution budget exhausted"
_CONTEXT = ("pre_context", "context_line", "post_context")


def _headers(row: Any) -> Dict[str, str]:
    try:
        value = json.loads(row["headers"] or "{}")
    except ValueError:
        return {}
    return {str(k).lower(): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _url_names(url: str) -> List[str]:
    """The artifact names a frame URL may have been uploaded under."""
    parts = urlsplit(url)
    path = parts.path or "/"
    names = [url]
    if parts.query:
        names.append(url.split("#", 1)[0])
    names += [f"~{path}?{parts.query}" if parts.query else f"~{path}", f"~{path}"]
    return list(dict.fromkeys(names))


class Resolver:
    """Resolves the JS frames of events against one store's artifacts."""

    def __init__(self, store: Any, cache: Optional[MapCache] = None) -> None:
        self.store = store
        self.cache = cache or MapCache()
        # file lookups, valid while the store's artifacts stay the same
        self._lookups: Dict[Any, Any] = {}
        self._releases: Dict[str, List[Any]] = {}  # a release's files, by the same rule
        self._generation: Optional[int] = -1

    # --- the event ----------------------------------------------------------------------
    def resolve_event(self, event: Dict[str, Any]) -> int:
        """Resolve every exception's frames in place; returns how many were resolved."""
        try:
            return self._resolve_event(event)
        except Exception:  # never a 500: the event is stored as it came
            internal_error("sourcemap resolution failed")
            return 0

    def _resolve_event(self, event: Dict[str, Any]) -> int:
        exceptions = event.get("exception")
        values = exceptions.get("values") if isinstance(exceptions, dict) else exceptions
        if not isinstance(values, list):
            return 0
        images = self._images(event)
        release = event.get("release") if isinstance(event.get("release"), str) else None
        dist = event.get("dist") if isinstance(event.get("dist"), str) else None
        work: List[Tuple[List[Any], List[int]]] = []
        for exc in values:
            trace: Any = exc.get("stacktrace") if isinstance(exc, dict) else None
            frames: Any = trace.get("frames") if isinstance(trace, dict) else None
            todo = (
                [i for i, f in enumerate(frames) if _candidate(f)]
                if isinstance(frames, list)
                else []
            )
            if todo:  # the frames are replaced, never changed in place: the raw trace shares them
                exc["raw_stacktrace"] = dict(trace, frames=list(frames))
                work.append((frames, todo))
        budget = Budget()
        memo: Dict[Any, Any] = {}
        done = 0
        # the innermost frames first (the last exception, the last frames): they matter most
        for frames, todo in reversed(work):
            for i in reversed(todo):
                frame = frames[i]
                reason = budget.spend(_location(frame), images, release, dist, memo)
                if reason:
                    frames[i] = _unresolved(frame, [reason])
                    continue
                new = frames[i] = self.resolve_frame(frame, images, release, dist, memo)
                if new.get("data", {}).get("resolution", {}).get("resolved"):
                    done += 1
        return done

    @staticmethod
    def _images(event: Dict[str, Any]) -> Dict[str, str]:
        meta = event.get("debug_meta")
        images = meta.get("images") if isinstance(meta, dict) else None
        out: Dict[str, str] = {}
        for image in images if isinstance(images, list) else []:
            if (
                isinstance(image, dict)
                and image.get("type") == "sourcemap"
                and isinstance(image.get("code_file"), str)
                and isinstance(image.get("debug_id"), str)
            ):
                out[image["code_file"]] = image["debug_id"].lower()
        return out

    # --- one frame ----------------------------------------------------------------------
    def resolve_frame(
        self,
        frame: Dict[str, Any],
        images: Dict[str, str],
        release: Optional[str],
        dist: Optional[str],
        memo: Optional[Dict[Any, Any]] = None,
    ) -> Dict[str, Any]:
        """A resolved copy of ``frame``, or the frame with the reason it stays as it is.
        ``memo`` keeps one event's lookups: its frames mostly share a file."""
        url = _location(frame)
        memo = {} if memo is None else memo
        file_key = (url, images.get(url), release, dist)
        known = memo.get(file_key)
        if known is None:
            known = memo[file_key] = self._open(url, images.get(url), release, dist)
        found, lookup_steps, parsed = known
        if parsed is None:
            return _unresolved(frame, lookup_steps)
        map_row, minified_row, via = found
        line, column = int(frame["lineno"]) - 1, int(frame["colno"]) - 1
        key = (line, column, frame.get("function"), via, map_row["id"])
        outcome = parsed.memo.get(key)
        if outcome is None:
            outcome = self._resolve_position(parsed, map_row, minified_row, via, key)
            parsed.remember(key, outcome)
        fields, step = outcome
        steps = [*lookup_steps, step]
        if fields is None:
            return _unresolved(frame, steps)
        new = dict(frame)
        if "context_line" in new and "context_line" not in fields:  # the minified line's
            for name in _CONTEXT:
                new.pop(name, None)
        new.update(fields)
        resolution: Dict[str, Any] = {"resolved": True, "via": via}
        if lookup_steps or ";" in step:  # a plain success needs no story: sourcemap and
            resolution["steps"] = steps  # via tell it; a missing context does
        data = dict(frame.get("data") or {}, sourcemap=map_row["name"], resolution=resolution)
        new["data"] = data
        return new

    def _resolve_position(
        self, parsed: ParsedMap, map_row: Any, minified_row: Any, via: str, key: Tuple
    ) -> Tuple[Optional[Dict[str, Any]], str]:
        """(the frame's new fields, or None, and the step saying so) for one position."""
        line, column, minified_name = key[0], key[1], key[2]
        segment = parsed.lookup(line, column)
        if segment is None:
            return None, (
                f"{map_row['name']}: line {line + 1} column {column + 1} is outside the map "
                f"({parsed.line_count} generated lines)"
            )
        src = parsed.sources[segment[1]] if segment[1] < len(parsed.sources) else None
        if src is None:
            return None, f"{map_row['name']}: the segment names a source the map does not list"
        fields: Dict[str, Any] = dict(
            abs_path=src, filename=src, lineno=segment[2] + 1, colno=segment[3] + 1
        )
        function = self._function(parsed, minified_row, minified_name)
        if function:
            fields["function"] = function
        if "node_modules/" in src:
            fields["in_app"] = False
        lines = parsed.source_lines(segment[1])
        step = f"resolved through {map_row['name']} ({via}) to {src}:{segment[2] + 1}"
        if lines is None:
            lines, uploaded = self._uploaded_source(map_row, src)
            if uploaded:
                step += f"; source context from the uploaded {uploaded}"
        if lines is not None:
            _add_context(fields, lines, segment[2])
        else:
            step += (
                "; the map has no sourcesContent for it and the source was not uploaded, "
                "so no source context"
            )
        return fields, step

    def _uploaded_source(self, map_row: Any, src: str) -> Tuple[Optional[List[str]], str]:
        """The lines of an uploaded file the map's source names (beside the map in its bundle
        or release), and its name."""
        wanted = _join_reference(map_row["name"], src)
        if map_row["bundle_id"] is not None:
            rows = self.store.bundle_artifacts(map_row["bundle_id"])
        elif map_row["release"]:
            rows = self.store.release_artifacts(map_row["release"])
        else:
            return None, ""
        row = next((r for r in rows if r["name"] == wanted and r["type"] != "source_map"), None)
        if row is None:
            return None, ""
        text = self._text(row)
        return (text.split("\n") if text is not None else None), row["name"]

    def _open(
        self, url: str, debug_id: Optional[str], release: Optional[str], dist: Optional[str]
    ) -> Tuple[Any, List[str], Optional[ParsedMap]]:
        """(found rows, steps, the parsed map or None) for one file of an event."""
        generation = getattr(self.store, "artifacts_generation", None)
        if generation != self._generation or len(self._lookups) > LOOKUPS:
            self._lookups, self._releases, self._generation = {}, {}, generation
        key = (url, debug_id, release, dist)
        known = self._lookups.get(key) if generation is not None else None
        if known is None:
            known = self._lookups[key] = self._find(url, debug_id, release, dist)
        found, steps = known
        if found is None:
            return found, steps, None
        row = found[0]
        parsed = self.cache.get(
            ("map", row["id"]), lambda: parse_map(self.store.artifact_data(row["id"]))
        )
        if isinstance(parsed, Failed):
            return found, [*steps, f"{row['name']}: {parsed.reason}"], None
        return found, steps, parsed

    def _find(
        self, url: str, debug_id: Optional[str], release: Optional[str], dist: Optional[str]
    ) -> Tuple[Optional[Tuple[Any, Any, str]], List[str]]:
        """(map row, minified row, via) for a file, and the steps taken to find it."""
        steps: List[str] = []
        found = None
        if debug_id is None:
            steps.append("no debug ID for this file in the event's debug_meta")
        else:
            found = self._by_debug_id(debug_id, steps)
        if found is None:
            found = self._by_release(url, release, dist, steps)
        return found, steps

    def _by_debug_id(self, debug_id: str, steps: List[str]) -> Optional[Tuple[Any, Any, str]]:
        rows = self.store.artifacts_by_debug_id(debug_id)
        maps = [
            r
            for r in rows
            if r["type"] == "source_map" or (r["type"] is None and r["name"].endswith(".map"))
        ]
        if not maps:
            steps.append(f"debug ID {debug_id}: no uploaded sourcemap has it")
            return None
        if len(maps) > 1:
            steps.append(f"debug ID {debug_id}: uploaded {len(maps)} times, the newest is used")
        minified = [r for r in rows if r["type"] == "minified_source"]
        return maps[-1], (minified[-1] if minified else None), "debug ID"

    def _by_release(
        self, url: str, release: Optional[str], dist: Optional[str], steps: List[str]
    ) -> Optional[Tuple[Any, Any, str]]:
        if not release:
            steps.append("the event has no release to look its files up by")
            return None
        every = self._release_files(release)
        rows = [r for r in every if (r["dist"] or None) == dist]
        if not rows:
            others = {r["dist"] for r in every}
            if others:
                steps.append(
                    f"release {release} has files for dist {sorted(map(str, others))}, "
                    f"not for the event's dist {dist!r}"
                )
            else:
                steps.append(f"release {release} has no uploaded files")
            return None
        by_name = {r["name"]: r for r in rows}
        names = _url_names(url)
        minified = next((by_name[n] for n in names if n in by_name), None)
        if minified is None:  # the nearest names are looked up when a person asks
            steps.append(f"{url}: {NOT_AMONG} release {release}'s files (looked for {names[-1]})")
            return None
        if minified["type"] == "source_map":
            return minified, None, "release files"
        ref = _headers(minified).get("sourcemap") or _headers(minified).get("x-sourcemap")
        candidates = []
        if ref:
            if ref.startswith("data:"):
                steps.append(f"{minified['name']}: an inline data: map is not resolved")
                return None
            base = minified["name"]
            joined = (
                urljoin("http://x/" + base[2:], ref)
                if base.startswith("~/")
                else urljoin(base, ref)
            )
            candidates.append("~" + urlsplit(joined).path if base.startswith("~/") else joined)
        candidates.append(minified["name"] + ".map")
        smap = next((by_name[c] for c in candidates if c in by_name), None)
        if smap is None:
            steps.append(
                f"{minified['name']}: its sourcemap ({', '.join(candidates)}) is not among "
                f"release {release}'s files"
            )
            return None
        return smap, minified, "release files"

    def _release_files(self, release: str) -> List[Any]:
        """A release's files, read once while the artifacts stay the same."""
        found = self._releases.get(release)
        if found is None:
            if len(self._releases) >= 64:
                self._releases.clear()
            found = self._releases[release] = list(self.store.release_artifacts(release))
        return found

    def _function(self, parsed: ParsedMap, minified_row: Any, name: Any) -> Optional[str]:
        # the segment's own name is the token at the call site (often the callee), so it is
        # not the frame's function: only a declared minified name is translated
        if isinstance(name, str) and name and name != "?" and minified_row is not None:
            text = self._text(minified_row)
            return parsed.original_names(text).get(name.rsplit(".", 1)[-1])
        return None

    def _text(self, row: Any) -> Optional[str]:
        """An artifact's text (a minified file, an uploaded source), cached."""

        def load() -> Text:
            data = self.store.artifact_data(row["id"])
            return Text(data.decode("utf-8", "replace") if data is not None else None)

        return self.cache.get(("text", row["id"]), load).text


class Budget:
    """One event's resolution budget: ``BUDGET_FRAMES`` frames, ``BUDGET_FILES`` distinct
    files looked up, ``BUDGET_SECONDS`` of work. Past it, frames keep their minified place."""

    def __init__(self) -> None:
        self.frames = 0
        self.deadline = time.monotonic() + BUDGET_SECONDS

    def spend(
        self, url: str, images: Dict[str, str], release: Any, dist: Any, memo: Dict[Any, Any]
    ) -> Optional[str]:
        """None while the budget lasts, else the frame's reason."""
        self.frames += 1
        if self.frames > BUDGET_FRAMES:
            return f"{EXHAUSTED} (more than {BUDGET_FRAMES} frames in the event)"
        if (url, images.get(url), release, dist) not in memo and len(memo) >= BUDGET_FILES:
            return f"{EXHAUSTED} (more than {BUDGET_FILES} distinct files in the event)"
        if time.monotonic() > self.deadline:
            return f"{EXHAUSTED} (more than {BUDGET_SECONDS:g} s spent on the event)"
        return None


def add_nearest_names(store: Any, event: Dict[str, Any], limit: int = NEAREST_FILES) -> None:
    """For a person reading the event (the event page, the event API that ``sourcemaps
    explain`` reads): the nearest uploaded names of files that were not among the release's
    files, for the innermost ``limit`` such files. Changes the steps in place."""
    import difflib

    release = event.get("release")
    exceptions = event.get("exception")
    values = exceptions.get("values") if isinstance(exceptions, dict) else exceptions
    if not isinstance(release, str) or not isinstance(values, list):
        return
    dist = event.get("dist") if isinstance(event.get("dist"), str) else None
    names: Optional[List[str]] = None
    found: Dict[str, List[str]] = {}
    for exc in reversed(values):
        trace = exc.get("stacktrace") if isinstance(exc, dict) else None
        frames = trace.get("frames") if isinstance(trace, dict) else None
        for frame in reversed(frames if isinstance(frames, list) else []):
            data = frame.get("data") if isinstance(frame, dict) else None
            res: Any = data.get("resolution") if isinstance(data, dict) else None
            steps = res.get("steps") if isinstance(res, dict) else None
            if not isinstance(steps, list) or res.get("resolved"):
                continue
            for n, step in enumerate(steps):
                if not (isinstance(step, str) and f": {NOT_AMONG} release " in step):
                    continue
                wanted = _url_names(step.split(f": {NOT_AMONG} release ", 1)[0])[-1]
                if wanted not in found and len(found) >= limit:
                    break
                if names is None:
                    rows = store.release_artifacts(release)
                    names = [r["name"] for r in rows if (r["dist"] or None) == dist]
                if wanted not in found:
                    found[wanted] = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
                if found[wanted] and "; nearest: " not in step:
                    steps[n] = step + f"; nearest: {', '.join(found[wanted])}"


def _join_reference(name: str, ref: str) -> str:
    """The artifact name a ``sourcemap`` reference points at, relative to ``name``."""
    if name.startswith("~/"):  # a path without a host: resolve it as one
        return "~" + urlsplit(urljoin("http://_/" + name[2:], ref)).path
    return urljoin(name, ref)


def _location(frame: Dict[str, Any]) -> str:
    """Where a frame's code was loaded from: ``abs_path``, else ``filename`` (the JS SDKs
    send only ``filename``)."""
    value = frame.get("abs_path")
    return value if isinstance(value, str) and value else str(frame.get("filename"))


def _candidate(frame: Any) -> bool:
    """A frame with a file and a 1-based line and column (the column first: Python frames,
    the common case, have none)."""
    if not isinstance(frame, dict):
        return False
    colno = frame.get("colno")
    if colno.__class__ is not int or colno <= 0:
        return False
    lineno = frame.get("lineno")
    return (
        lineno.__class__ is int
        and lineno > 0
        and isinstance(frame.get("abs_path") or frame.get("filename"), str)
    )


def _unresolved(frame: Dict[str, Any], steps: List[str]) -> Dict[str, Any]:
    new = dict(frame)
    new["data"] = dict(frame.get("data") or {}, resolution={"resolved": False, "steps": steps})
    return new


def _add_context(frame: Dict[str, Any], lines: List[str], line: int) -> None:
    if not 0 <= line < len(lines):
        return
    # tuples: these fields are shared by the frames resolved from the same position
    frame["pre_context"] = tuple(lines[max(0, line - CONTEXT_LINES) : line])
    frame["context_line"] = lines[line]
    frame["post_context"] = tuple(lines[line + 1 : line + 1 + CONTEXT_LINES])
