"""The chunk-upload protocol: server options, hashing files into chunks, sending missing chunks.

A file is cut into ``chunkSize`` pieces named by their SHA-1. The caller asks the server's
assemble endpoint first; it answers which chunks it lacks; only those are sent, in batches
limited by ``chunksPerRequest`` and ``maxRequestSize``, ``concurrency`` requests at a time,
gzip-compressed when the server accepts it. Each request body is written to a temporary file
and streamed, so memory stays small whatever the sizes.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from releasetag.protocol import multipart

MiB = 1 << 20
_READ = MiB
MAX_WORKERS = 8


@dataclass
class ChunkOptions:
    """What ``GET /organizations/{org}/chunk-upload/`` answered."""

    url: str
    chunk_size: int = 8 * MiB
    chunks_per_request: int = 64
    max_file_size: int = 2048 * MiB
    max_request_size: int = 32 * MiB
    concurrency: int = 1
    hash_algorithm: str = "sha1"
    compression: List[str] = field(default_factory=list)
    accept: List[str] = field(default_factory=list)
    max_wait: int = 0  # seconds the server lets a client poll an assemble (0: not said)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ChunkOptions":
        def num(key: str, default: int) -> int:
            try:
                value = int(data.get(key) or default)
            except (TypeError, ValueError):
                return default
            return value if value > 0 else default

        return cls(
            url=str(data.get("url") or ""),
            chunk_size=num("chunkSize", 8 * MiB),
            chunks_per_request=num("chunksPerRequest", 64),
            max_file_size=num("maxFileSize", 2048 * MiB),
            max_request_size=num("maxRequestSize", 32 * MiB),
            concurrency=num("concurrency", 1),
            hash_algorithm=str(data.get("hashAlgorithm") or "sha1"),
            compression=list(data.get("compression") or []),
            accept=list(data.get("accept") or []),
            max_wait=num("maxWait", 0) if data.get("maxWait") else 0,
        )

    @property
    def gzip(self) -> bool:
        return "gzip" in self.compression


@dataclass(frozen=True)
class Chunk:
    sha1: str
    path: str
    offset: int
    size: int


@dataclass
class ChunkedFile:
    """A file cut into chunks: ``checksum`` is the SHA-1 of the whole file."""

    path: str
    size: int
    checksum: str
    chunks: List[Chunk]

    @property
    def chunk_ids(self) -> List[str]:
        return [c.sha1 for c in self.chunks]


def hash_file(path: str, chunk_size: int) -> ChunkedFile:
    """Read ``path`` once, computing the whole-file and per-chunk SHA-1s."""
    whole = hashlib.sha1()
    chunks: List[Chunk] = []
    offset = 0
    with open(path, "rb") as fh:
        while True:
            part = hashlib.sha1()
            size = 0
            while size < chunk_size:
                block = fh.read(min(_READ, chunk_size - size))
                if not block:
                    break
                part.update(block)
                whole.update(block)
                size += len(block)
            if not size:
                break
            chunks.append(Chunk(part.hexdigest(), path, offset, size))
            offset += size
            if size < chunk_size:
                break
    return ChunkedFile(path, offset, whole.hexdigest(), chunks)


def plan_batches(chunks: Sequence[Chunk], options: ChunkOptions) -> List[List[Chunk]]:
    """Group chunks into requests: at most ``chunks_per_request`` chunks and
    ``max_request_size`` bytes each (a single larger chunk still goes alone)."""
    batches: List[List[Chunk]] = []
    current: List[Chunk] = []
    size = 0
    for chunk in chunks:
        if current and (
            len(current) >= options.chunks_per_request
            or size + chunk.size > options.max_request_size
        ):
            batches.append(current)
            current, size = [], 0
        current.append(chunk)
        size += chunk.size
    if current:
        batches.append(current)
    return batches


def _write_body(batch: Sequence[Chunk], gzip: bool, out: Any) -> str:
    """Write a multipart/form-data body for ``batch`` into ``out``; returns the boundary."""
    boundary = multipart.new_boundary()
    field_name = "file_gzip" if gzip else "file"
    for chunk in batch:
        out.write(
            multipart.part_header(boundary, field_name, chunk.sha1, "application/octet-stream")
        )
        comp = zlib.compressobj(1, zlib.DEFLATED, 31) if gzip else None
        with open(chunk.path, "rb") as fh:
            fh.seek(chunk.offset)
            left = chunk.size
            while left:
                block = fh.read(min(_READ, left))
                if not block:
                    raise OSError(f"{chunk.path} changed while uploading")
                left -= len(block)
                out.write(comp.compress(block) if comp else block)
        if comp:
            out.write(comp.flush())
        out.write(b"\r\n")
    out.write(multipart.closing(boundary))
    return boundary


Progress = Callable[[int, int], None]


def upload_chunks(
    client: Any, options: ChunkOptions, chunks: Iterable[Chunk], progress: Optional[Progress] = None
) -> Tuple[int, int]:
    """Send ``chunks`` (deduplicated by SHA-1) to ``options.url``.

    Returns (chunks sent, requests made). ``client`` is an ``ApiClient``; any failure raises
    its ``ApiError`` (or ``OSError`` reading a file).
    """
    unique: Dict[str, Chunk] = {}
    for c in chunks:
        unique.setdefault(c.sha1, c)
    batches = plan_batches(list(unique.values()), options)
    if not batches:
        return 0, 0
    total = len(unique)
    done = [0]
    lock = threading.Lock()
    if progress:
        progress(0, total)

    def send(batch: List[Chunk]) -> None:
        with tempfile.TemporaryFile(prefix="releasetag-chunks-") as body:
            boundary = _write_body(batch, options.gzip, body)
            length = body.tell()
            body.seek(0)
            client.request(
                "POST",
                options.url,
                data=body,
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(length),
                },
            )
        if progress:
            with lock:
                done[0] += len(batch)
                progress(done[0], total)

    # each sending thread keeps its own kept-alive connection: more threads would only
    # open more connections for the same server-side concurrency
    workers = max(1, min(options.concurrency, len(batches), MAX_WORKERS))
    if workers == 1:
        for batch in batches:
            send(batch)
    else:
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="releasetag-upload"
        ) as pool:
            for future in [pool.submit(send, b) for b in batches]:
                future.result()
    return total, len(batches)
