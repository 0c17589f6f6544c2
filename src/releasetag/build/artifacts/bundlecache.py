"""Remembers the chunk hashes of bundles already built, so re-uploading unchanged files costs a
few ``stat`` calls instead of hashing every byte again.

Like git's index, a bundle's files are trusted unchanged when path, size, modification and
status-change times (nanoseconds) and inode are all the same; any write to a file changes its
ctime, which user programs cannot set back. Files changed within the last second are never
cached (a later write in the same clock tick could go unnoticed). The hashes are only a
shortcut for asking the server: when chunks must actually be sent, the bundle is rebuilt and
its checksum checked again. ``RELEASETAG_CACHE_DIR`` moves the cache, ``RELEASETAG_NO_CACHE=1``
(or ``--no-cache``) turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from typing import Any, Dict, Optional, Sequence

from releasetag.build.artifacts.bundle import BundleFile, build_bundle, zip_name
from releasetag.build.artifacts.chunks import Chunk, ChunkedFile
from releasetag.detect.env import env_flag

FORMAT = 1
FRESH_NS = 1_000_000_000  # files changed more recently than this are not trusted yet
KEEP = 64


def cache_dir() -> Optional[str]:
    """Where bundle hashes are kept, or None when caching is off."""
    if env_flag("RELEASETAG_NO_CACHE"):
        return None
    explicit = os.environ.get("RELEASETAG_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "releasetag", "bundles")


class BundleCache:
    """A folder of small JSON files, one per bundle key."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    @staticmethod
    def key(files: Sequence[BundleFile], meta: Dict[str, Any], chunk_size: int) -> Optional[str]:
        """The cache key for these files as they are on disk now; None when any file is too
        fresh to trust its timestamps (or cannot be read)."""
        now = time.time_ns()
        rows = []
        for f in sorted(files, key=lambda b: zip_name(b.url)):
            try:
                st = os.stat(f.path)
            except OSError:
                return None
            if max(st.st_mtime_ns, st.st_ctime_ns) > now - FRESH_NS:
                return None
            rows.append(
                [
                    zip_name(f.url),
                    os.path.abspath(f.path),
                    st.st_size,
                    st.st_mtime_ns,
                    st.st_ctime_ns,
                    st.st_ino,
                    f.type,
                    sorted(f.headers.items()),
                ]
            )
        blob = json.dumps(
            [FORMAT, chunk_size, sorted((k, str(v)) for k, v in meta.items()), rows],
            separators=(",", ":"),
        )
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Optional[ChunkedFile]:
        try:
            with open(os.path.join(self.folder, key + ".json"), encoding="utf-8") as fh:
                data = json.load(fh)
            chunks = [Chunk(str(sha), "", int(off), int(size)) for sha, off, size in data["chunks"]]
            return ChunkedFile("", int(data["size"]), str(data["checksum"]), chunks)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, chunked: ChunkedFile) -> None:
        """Store (best effort: a cache that cannot be written is simply not used)."""
        data = {
            "checksum": chunked.checksum,
            "size": chunked.size,
            "chunks": [[c.sha1, c.offset, c.size] for c in chunked.chunks],
        }
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, os.path.join(self.folder, key + ".json"))
            self._prune()
        except OSError:
            pass

    def _prune(self) -> None:
        entries = [
            os.path.join(self.folder, n) for n in os.listdir(self.folder) if n.endswith(".json")
        ]
        if len(entries) <= KEEP:
            return
        entries.sort(key=lambda p: os.stat(p).st_mtime_ns)
        for path in entries[:-KEEP]:
            try:
                os.unlink(path)
            except OSError:
                pass


class CachedBundle:
    """A bundle known from the cache: hashes at once, the file only built when needed."""

    def __init__(self, files: Sequence[BundleFile], chunked: ChunkedFile, **meta: Any) -> None:
        self.files = list(files)
        self.meta = meta
        self.chunked = chunked
        self._built: Optional[Any] = None

    def materialize(self) -> ChunkedFile:
        if self._built is None:
            self._built = build_bundle(self.files, **self.meta)
            self.chunked = self._built.chunked
        return self._built.chunked

    def close(self) -> None:
        if self._built is not None:
            self._built.close()
