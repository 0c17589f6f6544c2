"""Writing artifact bundles (the format is in ``bundle_format``). Entries are sorted and carry
fixed timestamps and modes, so the same input gives the same bytes (and checksum). Files are
streamed into a temporary file (memory stays bounded however large the bundle is) and hashed
into upload chunks as they are written. Entries are stored, not deflated: the chunks are
gzip-compressed on the wire, in parallel, and an unchanged re-upload compresses nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from releasetag.build.artifacts.bundle_format import (
    MAGIC,
    MANIFEST,
    BundleError,
    make_manifest,
    manifest_entry,
    zip_name,
)
from releasetag.build.artifacts.walk import open_regular, read_at_most

if TYPE_CHECKING:  # pragma: no cover
    from releasetag.build.artifacts.chunks import ChunkedFile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_DOS_TIME, _DOS_DATE = 0, (1 << 5) | 1  # 1980-01-01 00:00:00
_COPY = 1 << 20
_IN_MEMORY = 8 << 20  # files up to this size are read once; larger ones twice (CRC first)
_MAX_ENTRIES = 0xFFFF
_MAX_SIZE = 0xFFFFFFFF


@dataclass
class BundleFile:
    """One file to put into a bundle."""

    path: str  # on disk
    url: str  # e.g. ~/static/app.js
    type: str  # minified_source | source_map | source
    headers: Dict[str, str] = field(default_factory=dict)
    map_path: Optional[str] = None  # a minified file's map on disk, when known

    @property
    def debug_id(self) -> Optional[str]:
        return self.headers.get("debug-id")


class _NullSink:
    """Discards what is written: hashing a bundle without writing it anywhere."""

    name = None

    def write(self, data: bytes) -> int:
        return len(data)


class _BackgroundHash:
    """A SHA-1 fed in order by a helper thread (hashlib releases the GIL on large inputs),
    so the whole-file and per-chunk hashes are computed on two cores at once."""

    def __init__(self) -> None:
        import queue
        import threading

        self._hash = hashlib.sha1()
        self._queue: "queue.Queue[Optional[bytes]]" = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="releasetag-sha1", daemon=True)
        self._thread.start()
        self._digest: Optional[str] = None

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            self._hash.update(data)

    def update(self, data: bytes) -> None:
        self._queue.put(bytes(data))

    def join(self) -> None:
        if self._digest is None:
            self._queue.put(None)
            self._thread.join()
            self._digest = self._hash.hexdigest()

    def hexdigest(self) -> str:
        self.join()
        return self._digest  # type: ignore[return-value]


class _HashingWriter:
    """Writes through to ``fh`` while computing the SHA-1 of everything and of every
    ``chunk_size`` piece: the chunk-upload hashes come for free while the bundle is written."""

    def __init__(self, fh: Any, chunk_size: int) -> None:
        self.fh = fh
        self.chunk_size = chunk_size
        self.whole = _BackgroundHash()
        self.part = hashlib.sha1()
        self.in_part = 0
        self.offset = 0
        self.chunks: List[Tuple[str, int, int]] = []  # (sha1, offset, size)

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.whole.update(data)
        view = memoryview(data)
        while len(view):
            take = min(len(view), self.chunk_size - self.in_part)
            self.part.update(view[:take])
            self.in_part += take
            view = view[take:]
            if self.in_part == self.chunk_size:
                self._close_part()
        self.offset += len(data)

    def _close_part(self) -> None:
        start = sum(size for _, _, size in self.chunks)
        self.chunks.append((self.part.hexdigest(), start, self.in_part))
        self.part, self.in_part = hashlib.sha1(), 0

    def finish(self) -> None:
        if self.in_part:
            self._close_part()
        self.whole.join()


def _crc_of(path: str) -> Tuple[int, int, Optional[bytes]]:
    """(crc32, size, content if small enough to keep); regular files only."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= _IN_MEMORY:
            data = read_at_most(fh, _IN_MEMORY)
            if len(data) > _IN_MEMORY:
                raise BundleError(f"{path} changed while it was being packed")
            return zlib.crc32(data), len(data), data
        crc = 0
        size = 0
        while True:
            block = fh.read(_COPY)
            if not block:
                break
            crc = zlib.crc32(block, crc)
            size += len(block)
        return crc, size, None


class _ZipWriter:
    """A minimal ZIP writer: stored entries, fixed time and mode, offsets relative to the
    start of the ZIP (after the SYSB header), no seeking (so the output can be hashed as
    it is written). Chunks are compressed on the wire instead."""

    def __init__(self, out: _HashingWriter) -> None:
        self.out = out
        self.base = out.offset
        self.central: List[bytes] = []

    def _header(self, name: bytes, crc: int, size: int) -> None:
        if size > _MAX_SIZE or self.out.offset - self.base > _MAX_SIZE:
            raise BundleError("the artifact bundle would exceed 4 GiB; upload fewer files at once")
        if len(self.central) >= _MAX_ENTRIES:
            raise BundleError(
                f"more than {_MAX_ENTRIES} files in one bundle; upload fewer files at once"
            )
        offset = self.out.offset - self.base
        common = struct.pack(
            "<HHHHHIIIH", 20, 0x0800, 0, _DOS_TIME, _DOS_DATE, crc, size, size, len(name)
        )
        self.out.write(struct.pack("<I", 0x04034B50) + common + struct.pack("<H", 0) + name)
        self.central.append(
            struct.pack("<IH", 0x02014B50, (3 << 8) | 20)
            + common
            + struct.pack("<HHHHII", 0, 0, 0, 0, 0o100644 << 16, offset)
            + name
        )

    def add_file(self, name: str, path: str) -> Tuple[int, int]:
        crc, size, data = _crc_of(path)
        self._header(name.encode("utf-8"), crc, size)
        if data is not None:
            self.out.write(data)
        else:
            with open_regular(path) as fh:
                left = size
                while left:
                    block = fh.read(min(_COPY, left))
                    if not block:
                        raise BundleError(f"{path} changed while it was being packed")
                    self.out.write(block)
                    left -= len(block)
        return crc, size

    def add_bytes(self, name: str, data: bytes) -> None:
        self._header(name.encode("utf-8"), zlib.crc32(data), len(data))
        self.out.write(data)

    def close(self) -> None:
        start = self.out.offset - self.base
        directory = b"".join(self.central)
        self.out.write(directory)
        self.out.write(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                len(self.central),
                len(self.central),
                len(directory),
                start,
                0,
            )
        )


def write_bundle(
    files: Sequence[BundleFile],
    out: Any,
    *,
    org: Optional[str] = None,
    projects: Sequence[str] = (),
    release: Optional[str] = None,
    dist: Optional[str] = None,
    note: Optional[str] = None,
    chunk_size: int = 8 << 20,
) -> Tuple[Dict[str, Any], "ChunkedFile"]:
    """Write the bundle for ``files`` into the binary file object ``out``.

    Returns the manifest and the chunk hashes of what was written (for ``chunk_size``).
    """
    from releasetag.build.artifacts.chunks import Chunk, ChunkedFile

    entries = sorted(files, key=lambda f: zip_name(f.url))
    seen = set()
    manifest_files: Dict[str, Any] = {}
    ident = hashlib.sha1()
    writer = _HashingWriter(out, chunk_size)
    writer.write(MAGIC)
    zw = _ZipWriter(writer)
    for f in entries:
        name = zip_name(f.url)
        if name in seen:
            continue  # two paths with the same URL: the first (sorted) wins
        seen.add(name)
        crc, size = zw.add_file(name, f.path)
        ident.update(f"{name}\0{crc}\0{size}\n".encode())
        manifest_files[name] = manifest_entry(f.url, f.type, f.headers)
    manifest = make_manifest(
        manifest_files, org=org, projects=projects, release=release, dist=dist, note=note
    )
    ident.update(json.dumps(manifest, sort_keys=True).encode("utf-8"))
    manifest["debug_id"] = str(uuid.UUID(bytes=ident.digest()[:16], version=5))
    zw.add_bytes(
        MANIFEST, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")
    )
    zw.close()
    writer.finish()
    path = getattr(out, "name", "") if isinstance(getattr(out, "name", None), str) else ""
    chunked = ChunkedFile(
        path,
        writer.offset,
        writer.whole.hexdigest(),
        [Chunk(sha, path, off, size) for sha, off, size in writer.chunks],
    )
    return manifest, chunked


def build_bundle(
    files: Sequence[BundleFile], directory: Optional[str] = None, **meta: Any
) -> "BuiltBundle":
    """Write a bundle to a new temporary file (removed by ``BuiltBundle.close``)."""
    from releasetag.build.artifacts.chunks import Chunk

    fd, path = tempfile.mkstemp(prefix="releasetag-bundle-", suffix=".zip", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            manifest, chunked = write_bundle(files, out, **meta)
    except BaseException:
        os.unlink(path)
        raise
    chunked.path = path
    chunked.chunks = [Chunk(c.sha1, path, c.offset, c.size) for c in chunked.chunks]
    return BuiltBundle(path, manifest, chunked)


@dataclass
class BuiltBundle:
    """A bundle written to ``path`` (a temporary file) and its manifest."""

    path: str
    manifest: Dict[str, Any]
    chunked: "ChunkedFile"

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "BuiltBundle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def copy_to(self, dest: str) -> None:
        shutil.copyfile(self.path, dest)

    def materialize(self) -> "ChunkedFile":
        return self.chunked


class LazyBundle:
    """A bundle hashed without being written: ``chunked`` and ``manifest`` are known at once;
    ``materialize`` writes the temporary file only when the server lacks some chunks (an
    unchanged re-upload never writes it)."""

    def __init__(self, files: Sequence[BundleFile], **meta: Any) -> None:
        self.files = list(files)
        self.meta = meta
        self.manifest, self.chunked = write_bundle(self.files, _NullSink(), **meta)
        self._built: Optional[BuiltBundle] = None

    def materialize(self) -> "ChunkedFile":
        if self._built is None:
            self._built = build_bundle(self.files, **self.meta)
            if self._built.chunked.checksum != self.chunked.checksum:
                raise BundleError("the files changed while the bundle was being built")
        return self._built.chunked

    def close(self) -> None:
        if self._built is not None:
            self._built.close()

    def __enter__(self) -> "LazyBundle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
