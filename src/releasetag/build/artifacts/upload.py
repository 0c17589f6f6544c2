"""Upload flows on top of the chunk protocol: artifact bundles, debug files, and the legacy
release-files endpoint for servers without chunk upload."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple
from urllib.parse import quote

from releasetag.build.artifacts.chunks import (
    ChunkedFile,
    ChunkOptions,
    Progress,
    hash_file,
    upload_chunks,
)
from releasetag.build.artifacts.walk import read_regular
from releasetag.protocol import multipart
from releasetag.protocol.errors import ArtifactError

DONE_STATES = ("ok", "error")
PENDING_STATES = ("created", "assembling")  # --wait polls while the server is in these
WAIT_TIMEOUT = float(os.environ.get("RELEASETAG_ASSEMBLE_TIMEOUT", "300"))  # as sentry-cli


def _poll_interval() -> float:
    """Seconds between assemble polls with --wait (about one; RELEASETAG_POLL_INTERVAL)."""
    try:
        return max(0.01, float(os.environ.get("RELEASETAG_POLL_INTERVAL", "1")))
    except ValueError:
        return 1.0


class UploadError(ArtifactError):
    """An upload failed; the message is one line for people."""


def get_chunk_options(client: Any, org: str) -> Optional[ChunkOptions]:
    """The server's chunk-upload options, or None when it offers no chunk upload."""
    from releasetag.build.webapi.client import ApiError

    try:
        data = client.json("GET", f"/organizations/{quote(org, safe='')}/chunk-upload/")
    except ApiError as exc:
        if exc.status in (404, 405):
            return None
        raise
    if not isinstance(data, dict) or not data.get("url"):
        return None
    return ChunkOptions.from_json(data)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@dataclass
class BundleUploadResult:
    checksum: str
    size: int
    chunks: int
    missing: int
    sent: int
    requests: int
    state: str
    detail: Optional[str] = None
    waited_out: bool = False  # --wait ended at its bound with the server still processing

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def upload_bundle(
    client: Any,
    options: ChunkOptions,
    org: str,
    projects: Sequence[str],
    bundle: Any,
    *,
    release: Optional[str] = None,
    dist: Optional[str] = None,
    wait: bool = False,
    wait_for: Optional[float] = None,
    progress: Optional[Progress] = None,
    poll_interval: Optional[float] = None,
) -> BundleUploadResult:
    """Assemble an artifact bundle on the server, sending only the chunks it lacks.

    ``bundle`` is a path, or an object with ``chunked`` (hashes for ``options.chunk_size``)
    and ``materialize()`` (the file's chunks on disk, written only when needed). With
    ``wait``, poll until the server has processed it, for at most ``wait_for`` seconds
    (default ``WAIT_TIMEOUT``, and never longer than the server's ``maxWait``); a server
    still processing then gives a result with ``waited_out`` (the files are stored)."""
    poll_interval = _poll_interval() if poll_interval is None else poll_interval
    if isinstance(bundle, str):
        cf = hash_file(bundle, options.chunk_size)
        materialize = lambda: cf  # noqa: E731
    else:
        cf, materialize = bundle.chunked, bundle.materialize
    if cf.size > options.max_file_size:
        raise UploadError(
            f"the artifact bundle is {_human(cf.size)}, over the server's "
            f"maximum file size of {_human(options.max_file_size)}; "
            "upload fewer files at once"
        )
    body: Dict[str, Any] = {
        "checksum": cf.checksum,
        "chunks": cf.chunk_ids,
        "projects": list(projects),
    }
    if release:
        body["version"] = release
    if dist:
        body["dist"] = dist
    path = f"/organizations/{quote(org, safe='')}/artifactbundle/assemble/"

    def assemble() -> Dict[str, Any]:
        answer = client.json("POST", path, json=body)
        if not isinstance(answer, dict):
            raise UploadError(f"POST {path}: unexpected answer from the server")
        return answer

    answer, cf, missing, sent, requests = _send_missing(
        client, options, assemble, body, cf, materialize, progress
    )
    bound = WAIT_TIMEOUT if wait_for is None else wait_for
    if options.max_wait:
        bound = min(bound, options.max_wait)
    answer, waited_out = _wait_bundle(assemble, answer, wait, bound, poll_interval)
    state = str(answer.get("state") or "unknown")
    result = BundleUploadResult(
        cf.checksum,
        cf.size,
        len(cf.chunks),
        len(missing),
        sent,
        requests,
        state,
        answer.get("detail"),
        waited_out,
    )
    if state == "error":
        raise UploadError(
            f"the server could not process the artifact bundle: "
            f"{answer.get('detail') or 'no detail given'}"
        )
    return result


def _send_missing(
    client: Any,
    options: ChunkOptions,
    assemble: Callable[[], Dict[str, Any]],
    body: Dict[str, Any],
    cf: ChunkedFile,
    materialize: Callable[[], ChunkedFile],
    progress: Optional[Progress],
) -> Tuple[Dict[str, Any], ChunkedFile, Set[str], int, int]:
    """Ask the server which chunks it lacks and send them (the bundle is written only then).
    Returns (last answer, the bundle's hashes, chunks missing, bytes sent, requests)."""
    answer = assemble()
    missing = set(answer.get("missingChunks") or [])
    sent = requests = 0
    if not missing:
        return answer, cf, missing, sent, requests
    on_disk = materialize()
    if on_disk.checksum != cf.checksum:  # the remembered hashes were out of date
        cf = on_disk
        body.update(checksum=cf.checksum, chunks=cf.chunk_ids)
        answer = assemble()
        missing = set(answer.get("missingChunks") or [])
    if missing:
        sent, requests = upload_chunks(
            client, options, [c for c in on_disk.chunks if c.sha1 in missing], progress
        )
        answer = assemble()
        if answer.get("missingChunks"):
            raise UploadError(
                "the server still lacks chunks after the upload "
                f"({len(answer['missingChunks'])} missing)"
            )
    return answer, cf, missing, sent, requests


def _wait_bundle(
    assemble: Callable[[], Dict[str, Any]],
    answer: Dict[str, Any],
    wait: bool,
    bound: float,
    poll_interval: float,
) -> Tuple[Dict[str, Any], bool]:
    """Poll (with ``wait``) while the server processes, for at most ``bound`` seconds.
    Returns (last answer, True when the bound ended the wait)."""
    deadline = time.monotonic() + bound
    while wait and answer.get("state") in PENDING_STATES:
        if time.monotonic() >= deadline:
            return answer, True
        time.sleep(min(poll_interval, max(0.0, deadline - time.monotonic())))
        answer = assemble()
    return answer, False


@dataclass
class DifToUpload:
    """A debug file to send: ``name`` is what the server shows, ``path`` the bytes."""

    name: str
    path: str
    debug_id: Optional[str]
    chunked: Optional[ChunkedFile] = None
    state: str = "pending"
    detail: Optional[str] = None
    uploaded: bool = False
    extra: Dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "debug_id": self.debug_id,
            "state": self.state,
            "detail": self.detail,
            "checksum": self.chunked.checksum if self.chunked else None,
            "uploaded": self.uploaded,
            **self.extra,
        }


def upload_difs(
    client: Any,
    options: ChunkOptions,
    org: str,
    project: str,
    difs: List[DifToUpload],
    *,
    wait: bool = False,
    progress: Optional[Progress] = None,
    poll_interval: Optional[float] = None,
) -> None:
    """Assemble debug files on the server (states are written onto each ``DifToUpload``)."""
    poll_interval = _poll_interval() if poll_interval is None else poll_interval
    todo: Dict[str, DifToUpload] = {}
    for dif in difs:
        if dif.chunked is None:
            dif.chunked = hash_file(dif.path, options.chunk_size)
        if dif.chunked.size > options.max_file_size:
            dif.state = "error"
            dif.detail = (
                f"file is {_human(dif.chunked.size)}, over the server's maximum "
                f"file size of {_human(options.max_file_size)}"
            )
            continue
        if dif.chunked.checksum in todo:  # the same bytes twice: send once
            dif.state, dif.detail = (
                "duplicate",
                "same content as " + todo[dif.chunked.checksum].name,
            )
            continue
        todo[dif.chunked.checksum] = dif
    if not todo:
        return
    path = f"/projects/{quote(org, safe='')}/{quote(project, safe='')}/files/difs/assemble/"
    body = {
        cs: {
            "name": d.name,
            "chunks": d.chunked.chunk_ids,  # type: ignore[union-attr]
            **({"debug_id": d.debug_id} if d.debug_id else {}),
        }
        for cs, d in todo.items()
    }

    def assemble() -> Dict[str, Any]:
        answer = client.json("POST", path, json=body)
        if not isinstance(answer, dict):
            raise UploadError(f"POST {path}: unexpected answer from the server")
        for cs, dif in todo.items():
            entry = answer.get(cs) or {}
            dif.state = str(entry.get("state") or "unknown")
            dif.detail = entry.get("detail")
        return answer

    answer = assemble()
    missing: Set[str] = set()
    for cs in todo:
        missing.update((answer.get(cs) or {}).get("missingChunks") or [])
    if missing:
        chunks = [
            c
            for d in todo.values()
            for c in d.chunked.chunks  # type: ignore[union-attr]
            if c.sha1 in missing
        ]
        upload_chunks(client, options, chunks, progress)
        for d in todo.values():
            if any(c.sha1 in missing for c in d.chunked.chunks):  # type: ignore[union-attr]
                d.uploaded = True
        answer = assemble()
    deadline = time.monotonic() + WAIT_TIMEOUT
    while wait and any(d.state in PENDING_STATES for d in todo.values()):
        if time.monotonic() > deadline:
            for d in todo.values():
                if d.state in PENDING_STATES:
                    d.detail = f"not processed within {WAIT_TIMEOUT:.0f} s"
            return
        time.sleep(poll_interval)
        body = {cs: b for cs, b in body.items() if todo[cs].state in PENDING_STATES}
        answer = assemble()


def upload_release_files(
    client: Any, org: str, release: str, files: Sequence[Any], dist: Optional[str] = None
) -> List[Dict[str, Any]]:
    """The legacy endpoint: one multipart POST per file to ``/releases/{version}/files/``.

    A 409 (the file exists already) counts as done. Returns one result per file.
    """
    from releasetag.build.webapi.client import ApiError

    path = f"/organizations/{quote(org, safe='')}/releases/{quote(release, safe='')}/files/"
    results = []
    for f in files:
        fields = [("name", f.url)]
        if dist:
            fields.append(("dist", dist))
        for key, value in sorted(f.headers.items()):
            key = "Sourcemap" if key == "sourcemap" else key  # the legacy endpoint's spelling
            fields.append(("header", f"{key}:{value}"))
        try:
            content = read_regular(f.path)
            body, content_type = multipart.encode(
                fields, [("file", os.path.basename(f.path), content)]
            )
            client.request("POST", path, data=body, headers={"Content-Type": content_type})
            results.append({"url": f.url, "state": "ok"})
        except ApiError as exc:
            if exc.status == 409:
                results.append({"url": f.url, "state": "exists"})
            else:
                results.append({"url": f.url, "state": "error", "detail": exc.message})
    return results
