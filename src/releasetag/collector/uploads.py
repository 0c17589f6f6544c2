"""Uploads of the Web API: chunk upload, artifact bundle and debug file assembly, legacy
release files, and the read endpoints for files, bundles and debug files."""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from typing import Any, Callable, Dict, List, Optional, Sequence

from releasetag.collector.db.store import Store
from releasetag.protocol.release import release_name_error

from .bundles import BundleError, read_bundle
from .context import (
    Context,
    body_object,
    opt_str,
    require_org,
    require_project,
    require_release,
    resolve_projects,
)
from .request_response import HTTPError, Request, Response, inflate, json_response, parse_multipart

log = logging.getLogger("releasetag.collector")

CHUNK_SIZE = 8 * 1024 * 1024
CHUNKS_PER_REQUEST = 64
MAX_REQUEST_SIZE = 32 * 1024 * 1024
MAX_FILE_SIZE = 256 * 1024 * 1024
ACCEPT = [
    "debug_files",
    "release_files",
    "pdbs",
    "portablepdbs",
    "sources",
    "bcsymbolmaps",
    "il2cpp",
    "artifact_bundles",
    "artifact_bundles_v2",
]


def artifact_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "dist": row["dist"],
        "type": row["type"],
        "debugId": row["debug_id"],
        "headers": json.loads(row["headers"] or "{}"),
        "sha1": row["sha1"],
        "size": row["size"],
        "dateCreated": row["date_added"],
        "bundleId": row["bundle_id"],
    }


def bundle_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "checksum": row["checksum"],
        "bundleId": row["bundle_id"],
        "release": row["release"],
        "dist": row["dist"],
        "projects": json.loads(row["projects"] or "[]"),
        "fileCount": row["file_count"],
        "size": row["size"],
        "date": row["date_added"],
    }


# -- release files (legacy) and reads of files and bundles ---------------------------------
def list_release_files(
    ctx: Context, req: Request, org: str, version: str, project: str = ""
) -> Response:
    require_release(ctx, org, version)
    return json_response([artifact_json(a) for a in ctx.store.release_artifacts(version)])


def get_release_file(
    ctx: Context, req: Request, org: str, version: str, file_id: str, project: str = ""
) -> Response:
    require_release(ctx, org, version)
    row = ctx.store.artifact(int(file_id)) if file_id.isdigit() else None
    if row is None or row["release"] != version:
        raise HTTPError(404, f"release file {file_id} does not exist")
    if req.query.get("download") in ("1", "true"):
        return Response(ctx.store.artifact_data(row["id"]) or b"", 200, "application/octet-stream")
    return json_response(artifact_json(row))


def artifact_lookup(ctx: Context, req: Request, org: str, project: str) -> Response:
    """GET .../artifact-lookup/?debug_id=...&release=...&url=...: the stored files a symbolicator
    would use for a frame (by debug ID, else by release and URL), with download links."""
    require_project(ctx, org, project)
    debug_id = (req.query.get("debug_id") or "").lower()
    release, url = req.query.get("release"), req.query.get("url")
    if debug_id:
        rows = ctx.store.artifacts_by_debug_id(debug_id)
    elif release:
        rows = [
            r
            for r in ctx.store.release_artifacts(release)
            if not url or r["name"] == url or r["name"].endswith("/" + url.split("/")[-1])
        ]
    else:
        raise HTTPError(400, "give debug_id, or release (and url)")
    out = []
    for row in rows:
        data = artifact_json(row)
        data["url"] = (
            f"{req.base_url}/api/0/organizations/{org}/releases/"
            f"{row['release']}/files/{row['id']}/?download=1"
            if row["release"]
            else None
        )
        data["release"] = row["release"]
        out.append(data)
    return json_response(out)


def upload_release_file(
    ctx: Context, req: Request, org: str, version: str, project: str = ""
) -> Response:
    """POST .../releases/{version}/files/ multipart: file, name, dist, header=K:V."""
    require_release(ctx, org, version)
    parts = parse_multipart(
        req.body(MAX_REQUEST_SIZE + 1024 * 1024), req.header("Content-Type") or ""
    )
    file_part = next((p for p in parts if p["name"] == "file"), None)
    if file_part is None:
        raise HTTPError(400, "missing the 'file' part")
    fields: Dict[str, List[str]] = {}
    for p in parts:
        if p["name"] != "file":
            try:
                fields.setdefault(p["name"], []).append(p["data"].decode("utf-8"))
            except UnicodeDecodeError:
                raise HTTPError(400, f"form field {p['name']!r} is not valid UTF-8") from None
    name = (fields.get("name") or [file_part["filename"] or ""])[-1]
    if not name or len(name) > 1000:
        raise HTTPError(400, "missing or too long file name")
    headers = {}
    for header in fields.get("header", []):
        key, sep, value = header.partition(":")
        if not sep:
            raise HTTPError(400, f"header {header!r} must look like Key:Value")
        headers[key.strip().lower()] = value.strip()
    dists = fields.get("dist") or []
    dist = dists[-1] or None if dists else None
    row = ctx.store.add_release_file(version, name, file_part["data"], dist, headers)
    if row is None:
        raise HTTPError(409, f"a file named {name!r} already exists for release {version!r}")
    return json_response(artifact_json(row), 201)


def list_release_bundles(ctx: Context, req: Request, org: str, version: str) -> Response:
    require_release(ctx, org, version)
    return json_response([bundle_json(b) for b in ctx.store.bundles(version)])


# -- chunk upload and assemble -----------------------------------------------------------------
def chunk_options(ctx: Context, req: Request, org: str) -> Response:
    require_org(ctx, org)
    return json_response(
        {
            "url": f"{req.base_url}/api/0/organizations/{org}/chunk-upload/",
            "chunkSize": CHUNK_SIZE,
            "chunksPerRequest": CHUNKS_PER_REQUEST,
            "maxFileSize": MAX_FILE_SIZE,
            "maxRequestSize": MAX_REQUEST_SIZE,
            "concurrency": 2,
            "hashAlgorithm": "sha1",
            "compression": ["gzip"],
            "accept": ACCEPT,
        }
    )


def upload_chunks(ctx: Context, req: Request, org: str) -> Response:
    """POST chunk-upload/: multipart parts ``file`` / ``file_gzip`` named by their SHA-1."""
    require_org(ctx, org)
    parts = parse_multipart(
        req.body(MAX_REQUEST_SIZE + 1024 * 1024, MAX_REQUEST_SIZE * 2),
        req.header("Content-Type") or "",
    )
    chunks = []
    for part in parts:
        if part["name"] not in ("file", "file_gzip"):
            continue
        data = part["data"]
        if part["name"] == "file_gzip":
            data = inflate(data, 16 + zlib.MAX_WBITS, CHUNK_SIZE, "gzip chunk")
        if len(data) > CHUNK_SIZE:
            raise HTTPError(413, f"chunk is larger than the chunk size {CHUNK_SIZE}")
        digest = hashlib.sha1(data).hexdigest()
        if (part["filename"] or "").lower() != digest:
            raise HTTPError(
                400, f"chunk checksum mismatch: named {part['filename']!r}, content is {digest}"
            )
        chunks.append((digest, data))
    if len(chunks) > CHUNKS_PER_REQUEST:
        raise HTTPError(400, f"more than {CHUNKS_PER_REQUEST} chunks in one request")
    ctx.store.put_chunks(chunks)
    return json_response({})


def _checksum_list(value: Any, what: str) -> List[str]:
    if not isinstance(value, list) or not all(
        isinstance(c, str) and len(c) == 40 and all(ch in "0123456789abcdef" for ch in c.lower())
        for c in value
    ):
        raise HTTPError(400, f"{what} must be a list of SHA-1 hex checksums")
    return [c.lower() for c in value]


def _assemble_bytes(store: Store, checksum: str, chunks: Sequence[str]) -> bytes:
    parts = []
    size = 0
    for sha1 in chunks:
        data = store.chunk(sha1)
        if data is None:
            raise HTTPError(400, f"chunk {sha1} disappeared")
        size += len(data)
        if size > MAX_FILE_SIZE:
            raise ValueError(f"file is larger than {MAX_FILE_SIZE} bytes")
        parts.append(data)
    data = b"".join(parts)
    if hashlib.sha1(data).hexdigest() != checksum:
        raise ValueError("the assembled file's checksum does not match")
    return data


def assemble_bundle(ctx: Context, req: Request, org: str) -> Response:
    """POST artifactbundle/assemble/: answer missing chunks, or check and store the bundle."""
    require_org(ctx, org)
    body = body_object(req)
    checksum = body.get("checksum")
    if not isinstance(checksum, str) or len(_checksum_list([checksum], "checksum")) != 1:
        raise HTTPError(400, "checksum must be a SHA-1 hex checksum")
    checksum = checksum.lower()
    chunks = _checksum_list(body.get("chunks", []), "chunks")
    project_slugs = body.get("projects") or []
    resolve_projects(ctx, project_slugs)
    version = opt_str(body, "version", 250)
    dist = opt_str(body, "dist", 64)
    if ctx.store.bundle(checksum):
        return json_response({"state": "ok", "missingChunks": [], "detail": None})
    missing = ctx.store.missing_chunks(chunks)
    if missing or not chunks:
        return json_response({"state": "not_found", "missingChunks": missing, "detail": None})
    try:
        data = _assemble_bytes(ctx.store, checksum, chunks)
        bundle = read_bundle(data)
    except (BundleError, ValueError) as exc:
        return json_response({"state": "error", "missingChunks": [], "detail": str(exc)})
    manifest = bundle["manifest"]
    release = version or (
        manifest.get("release") if isinstance(manifest.get("release"), str) else None
    )
    if release and release_name_error(release):
        return json_response(
            {
                "state": "error",
                "missingChunks": [],
                "detail": f"invalid release: {release_name_error(release)}",
            }
        )
    meta = {
        "release": release,
        "dist": dist or (manifest.get("dist") if isinstance(manifest.get("dist"), str) else None),
        "bundle_id": str(manifest.get("debug_id") or "") or None,
        "projects": project_slugs,
    }
    ctx.store.add_bundle(checksum, data, meta, bundle["files"])
    ctx.store.delete_chunks(chunks)
    return json_response({"state": "ok", "missingChunks": [], "detail": None})


def _dif_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "uuid": row["debug_id"],
        "debugId": row["debug_id"],
        "codeId": row["code_id"],
        "objectName": row["object_name"] or row["name"],
        "cpuName": row["cpu_name"] or "unknown",
        "sha1": row["checksum"],
        "size": row["size"],
        "dateCreated": row["date_added"],
        "symbolType": row["kind"],
        "headers": {},
        "data": {"features": []},
    }


def read_debug_info(data: bytes, name: str, requested: Optional[str]) -> Dict[str, Any]:
    """Debug identifiers of an uploaded debug file.

    Reads the file with ``releasetag.build.artifacts.debugfiles.inspect`` when that module is
    installed (it parses ELF, Mach-O, PE, PDB, Breakpad, wasm); otherwise, or when it finds
    nothing, keeps the debug ID the client sent (sentry-cli sends it) or none."""
    info: Dict[str, Any] = {"name": name, "debug_id": requested, "object_name": name}
    from .native_sources import describe_bundle

    bundle = describe_bundle(data)  # a source bundle (debug-files upload --include-sources)
    if bundle is not None:
        return dict(info, **bundle)
    inspect: Optional[Callable[..., Any]]
    try:
        from releasetag.build.artifacts.debugfiles import inspect
    except ImportError:
        inspect = None
    if inspect is not None:
        import os
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix="releasetag-collector-dif-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            found = inspect(tmp, display=name)
            objects = [o for o in getattr(found, "objects", []) if getattr(o, "debug_id", None)]
            match = next(
                (o for o in objects if requested and str(o.debug_id).lower() == requested.lower()),
                None,
            )
            obj = match or (objects[0] if objects else None)
            if obj is not None:
                info.update(
                    debug_id=obj.debug_id,
                    code_id=obj.code_id,
                    cpu_name=obj.arch,
                    kind=getattr(found, "kind", None),
                )
        except Exception:  # a parser problem must not break the upload
            log.debug("debug file inspection failed", exc_info=True)
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    if info.get("debug_id"):
        info["debug_id"] = str(info["debug_id"]).lower()
    return info


def assemble_difs(ctx: Context, req: Request, org: str, project: str) -> Response:
    """POST difs/assemble/: {sha1: {name, debug_id?, chunks}} -> {sha1: {state, ...}}."""
    project_row = require_project(ctx, org, project)
    body = body_object(req)
    out: Dict[str, Any] = {}
    for checksum, spec in body.items():
        _checksum_list([checksum], "each key")
        checksum = checksum.lower()
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise HTTPError(400, f"entry {checksum} needs a name and chunks")
        chunks = _checksum_list(spec.get("chunks", []), "chunks")
        existing = ctx.store.debug_file(project_row["id"], checksum)
        if existing is not None:
            out[checksum] = {
                "state": "ok",
                "missingChunks": [],
                "detail": None,
                "dif": _dif_json(existing),
            }
            continue
        missing = ctx.store.missing_chunks(chunks)
        if missing or not chunks:
            out[checksum] = {
                "state": "not_found",
                "missingChunks": missing,
                "detail": None,
                "dif": None,
            }
            continue
        try:
            data = _assemble_bytes(ctx.store, checksum, chunks)
        except ValueError as exc:
            out[checksum] = {"state": "error", "missingChunks": [], "detail": str(exc), "dif": None}
            continue
        debug_id = spec.get("debug_id") if isinstance(spec.get("debug_id"), str) else None
        info = read_debug_info(data, spec["name"][:500], debug_id)
        row = ctx.store.add_debug_file(project_row["id"], checksum, data, info)
        ctx.store.delete_chunks(chunks)
        out[checksum] = {"state": "ok", "missingChunks": [], "detail": None, "dif": _dif_json(row)}
    return json_response(out)


def list_debug_files(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = require_project(ctx, org, project)
    return json_response([_dif_json(r) for r in ctx.store.debug_files(project_row["id"])])
