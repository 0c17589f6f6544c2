"""The build-time Web API (PROTOCOL.md §3) under ``/api/0``, plus read endpoints for people and
tests. Every handler takes ``(ctx, req, **path_params)`` and returns a Response or raises
HTTPError; the routes are listed in ``ROUTES`` at the bottom.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import zlib
from typing import Any, Dict, List, Optional, Sequence

from ..release import release_name_error
from .bundles import BundleError, read_bundle
from .http import HTTPError, Request, Response, inflate, json_response, parse_multipart
from .store import Store, to_iso

log = logging.getLogger("releasetag.collector")

CHUNK_SIZE = 8 * 1024 * 1024
CHUNKS_PER_REQUEST = 64
MAX_REQUEST_SIZE = 32 * 1024 * 1024
MAX_FILE_SIZE = 256 * 1024 * 1024
ACCEPT = ["debug_files", "release_files", "pdbs", "portablepdbs", "sources", "bcsymbolmaps",
          "il2cpp", "artifact_bundles", "artifact_bundles_v2"]


class Context:
    """What the handlers share: the store and the org, project and token of this collector."""

    def __init__(self, store: Store, org: str, token: str) -> None:
        self.store = store
        self.org = org
        self.token = token


# -- checks ------------------------------------------------------------------------------------
def check_token(ctx: Context, req: Request) -> None:
    auth = req.header("Authorization") or ""
    scheme, _, token = auth.partition(" ")
    if not auth:
        raise HTTPError(401, "missing API token (send Authorization: Bearer <token>)")
    if scheme.lower() not in ("bearer", "token") or not hmac.compare_digest(
            token.strip().encode("utf-8", "replace"), ctx.token.encode("utf-8")):
        raise HTTPError(401, "invalid API token")


def _org(ctx: Context, org: str) -> None:
    if org != ctx.org:
        raise HTTPError(404, f"unknown organization {org!r} (this collector has {ctx.org!r})")


def _project(ctx: Context, org: str, project: str):
    _org(ctx, org)
    row = ctx.store.project(project)
    if row is None:
        raise HTTPError(404, f"unknown project {project!r}")
    return row


def _release(ctx: Context, org: str, version: str):
    _org(ctx, org)
    row = ctx.store.release(version)
    if row is None:
        raise HTTPError(404, f"release {version!r} does not exist")
    return row


def _body_object(req: Request) -> Dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise HTTPError(400, "request body must be a JSON object")
    return body


def _opt_str(body: Dict[str, Any], key: str, limit: int = 1000) -> Optional[str]:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{key} must be a string")
    if len(value) > limit:
        raise HTTPError(400, f"{key} is longer than {limit} characters")
    return value


def _project_ids(ctx: Context, slugs: Any) -> List[int]:
    if slugs is None:
        return []
    if not isinstance(slugs, list):
        raise HTTPError(400, "projects must be a list of project slugs")
    ids = []
    for slug in slugs:
        row = ctx.store.project(slug) if isinstance(slug, (str, int)) else None
        if row is None:
            raise HTTPError(400, f"invalid project slug {slug!r}")
        ids.append(row["id"])
    return ids


# -- JSON shapes -------------------------------------------------------------------------------
def project_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "slug": row["slug"], "name": row["name"],
            "platform": "python", "platforms": ["python"], "newGroups": 0,
            "dateCreated": row["date_created"], "hasAccess": True, "isMember": True}


def org_json(ctx: Context, base_url: str = "") -> Dict[str, Any]:
    return {"id": "1", "slug": ctx.org, "name": ctx.org,
            "dateCreated": ctx.store.get_meta("created") or "1970-01-01T00:00:00Z",
            "status": {"id": "active", "name": "active"}, "isEarlyAdopter": False,
            "require2FA": False, "features": [],
            "links": {"organizationUrl": base_url, "regionUrl": base_url}}


def commit_json(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": row["key"], "message": row.get("message"), "dateCreated": row.get("timestamp"),
            "author": ({"name": row.get("author_name"), "email": row.get("author_email")}
                       if row.get("author_name") or row.get("author_email") else None),
            "repository": {"name": row.get("repo_name")},
            "patch_set": row.get("files", [])}


def repo_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "name": row["name"], "url": row["url"],
            "provider": {"id": row["provider"], "name": "Local"}, "status": "active",
            "dateCreated": row["date_created"], "integrationId": None,
            "externalSlug": row["name"]}


def deploy_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "environment": row["environment"], "name": row["name"],
            "url": row["url"], "dateStarted": row["date_started"],
            "dateFinished": row["date_finished"]}


def release_json(ctx: Context, row) -> Dict[str, Any]:
    store = ctx.store
    counts = store.event_counts(row["version"])
    last_commit = store.last_commit(row["id"])
    deploys = store.deploys(row["id"])
    return {
        "id": row["id"], "version": row["version"], "shortVersion": row["version"],
        "ref": row["ref"], "url": row["url"], "status": row["status"],
        "dateCreated": row["date_created"], "dateStarted": row["date_started"],
        "dateReleased": row["date_released"],
        "lastEvent": max((c["last"] for c in counts), default=None),
        "firstEvent": None,
        "newGroups": 0,
        "eventCount": sum(c["count"] for c in counts),
        "environments": [c["environment"] for c in counts if c["environment"]],
        "commitCount": store.commit_count(row["id"]),
        "lastCommit": commit_json(dict(last_commit)) if last_commit else None,
        "deployCount": len(deploys),
        "lastDeploy": deploy_json(deploys[0]) if deploys else None,
        "authors": [], "owner": None, "data": {},
        "projects": [{"id": p["id"], "slug": p["slug"], "name": p["name"], "newGroups": 0,
                      "platform": "python", "platforms": ["python"]}
                     for p in store.release_projects(row["id"])],
    }


def artifact_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "name": row["name"], "dist": row["dist"],
            "type": row["type"], "debugId": row["debug_id"],
            "headers": json.loads(row["headers"] or "{}"), "sha1": row["sha1"],
            "size": row["size"], "dateCreated": row["date_added"],
            "bundleId": row["bundle_id"]}


def bundle_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "checksum": row["checksum"], "bundleId": row["bundle_id"],
            "release": row["release"], "dist": row["dist"],
            "projects": json.loads(row["projects"] or "[]"), "fileCount": row["file_count"],
            "size": row["size"], "date": row["date_added"]}


def event_summary_json(row) -> Dict[str, Any]:
    payload = json.loads(row["payload"])
    tags = payload.get("tags") or {}
    if isinstance(tags, dict):
        tags = [{"key": str(k), "value": str(v)} for k, v in tags.items()]
    elif isinstance(tags, list):
        tags = [{"key": str(t[0]), "value": str(t[1])} for t in tags
                if isinstance(t, (list, tuple)) and len(t) == 2]
    else:
        tags = []
    return {"id": row["event_id"], "eventID": row["event_id"], "projectID": str(row["project_id"]),
            "title": row["title"], "message": row["message"], "level": row["level"],
            "platform": row["platform"], "release": row["release"],
            "environment": row["environment"], "dist": row["dist"],
            "culprit": row["culprit"], "dateCreated": row["timestamp"],
            "dateReceived": row["received"], "tags": tags}


# -- organizations, projects, repos ------------------------------------------------------------
def api_root(ctx: Context, req: Request) -> Response:
    return json_response({"version": "0", "auth": {"scopes": ["org:read", "project:releases"]},
                          "user": None})


def list_orgs(ctx: Context, req: Request) -> Response:
    return json_response([org_json(ctx, req.base_url)])


def get_org(ctx: Context, req: Request, org: str) -> Response:
    _org(ctx, org)
    data = org_json(ctx, req.base_url)
    data["projects"] = [project_json(p) for p in ctx.store.projects()]
    return json_response(data)


def list_projects(ctx: Context, req: Request, org: str = "") -> Response:
    if org:
        _org(ctx, org)
    out = []
    for p in ctx.store.projects():
        data = project_json(p)
        data["organization"] = org_json(ctx)
        out.append(data)
    return json_response(out)


def get_project(ctx: Context, req: Request, org: str, project: str) -> Response:
    return json_response(project_json(_project(ctx, org, project)))


def list_repos(ctx: Context, req: Request, org: str) -> Response:
    _org(ctx, org)
    return json_response([repo_json(r) for r in ctx.store.repos()])


def create_repo(ctx: Context, req: Request, org: str) -> Response:
    """POST .../repos/ {name, url?}: register a repository (clients such as sentry-cli check
    ``--commit owner/repo@sha`` against the repository list)."""
    _org(ctx, org)
    body = _body_object(req)
    name = _opt_str(body, "name", 200)
    if not name or not name.strip():
        raise HTTPError(400, "name is required (e.g. owner/repo)")
    url = _opt_str(body, "url", 1000)
    row, created = ctx.store.add_repo(name.strip(), url)
    return json_response(repo_json(row), 201 if created else 200)


# -- releases ----------------------------------------------------------------------------------
def _release_fields(body: Dict[str, Any]) -> Dict[str, Any]:
    fields: Dict[str, Any] = {}
    for key, column in (("url", "url"), ("ref", "ref")):
        if key in body:
            fields[column] = _opt_str(body, key)
    for key, column in (("dateStarted", "date_started"), ("dateReleased", "date_released")):
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, (str, int, float)):
                raise HTTPError(400, f"{key} must be a timestamp")
            fields[column] = to_iso(value)
    if "status" in body:
        status = body["status"]
        if status not in ("open", "archived"):
            raise HTTPError(400, "status must be 'open' or 'archived'")
        fields["status"] = status
    return fields


def create_release(ctx: Context, req: Request, org: str, project: str = "") -> Response:
    """POST .../releases/: create (201), or 208 when it exists (then only projects/status move)."""
    if project:
        project_row = _project(ctx, org, project)
    else:
        _org(ctx, org)
        project_row = None
    body = _body_object(req)
    version = body.get("version")
    problem = release_name_error(version)
    if problem:
        raise HTTPError(400, f"invalid release version: {problem}")
    project_ids = _project_ids(ctx, body.get("projects"))
    if project_row is not None and project_row["id"] not in project_ids:
        project_ids.append(project_row["id"])
    existing = ctx.store.release(version)
    if not project_ids and existing is None:
        default = ctx.store.projects()
        project_ids = [default[0]["id"]] if default else []
    fields = _release_fields(body)
    if existing is not None:
        fields = {k: v for k, v in fields.items() if k == "status"}
    row, created = ctx.store.upsert_release(version, project_ids, fields)
    return json_response(release_json(ctx, row), 201 if created else 208)


def list_releases(ctx: Context, req: Request, org: str, project: str = "") -> Response:
    project_id = _project(ctx, org, project)["id"] if project else None
    if not project:
        _org(ctx, org)
        if req.query.get("project", "").isdigit():
            project_id = int(req.query["project"])
    rows = ctx.store.releases(project_id, req.query.get("query") or None)
    return json_response([release_json(ctx, r) for r in rows])


def get_release(ctx: Context, req: Request, org: str, version: str, project: str = "") -> Response:
    if project:
        _project(ctx, org, project)
    return json_response(release_json(ctx, _release(ctx, org, version)))


def _validate_commits(commits: Any) -> List[Dict[str, Any]]:
    if not isinstance(commits, list):
        raise HTTPError(400, "commits must be a list")
    out = []
    for i, commit in enumerate(commits):
        if not isinstance(commit, dict):
            raise HTTPError(400, f"commits[{i}] must be an object")
        cid = commit.get("id")
        if not isinstance(cid, str) or not cid or len(cid) > 64:
            raise HTTPError(400, f"commits[{i}].id must be a string of 1 to 64 characters")
        item = {"id": cid}
        for key, limit in (("repository", 200), ("message", 100000), ("author_name", 128),
                           ("author_email", 75)):
            try:
                value = _opt_str(commit, key, limit)
            except HTTPError as exc:
                raise HTTPError(400, f"commits[{i}].{exc.detail}") from None
            if value is not None:
                item[key] = value
        if commit.get("timestamp") is not None:
            item["timestamp"] = to_iso(commit["timestamp"])
        patch_set = commit.get("patch_set")
        if patch_set is not None:
            if not isinstance(patch_set, list):
                raise HTTPError(400, f"commits[{i}].patch_set must be a list")
            files = []
            for entry in patch_set:
                if (not isinstance(entry, dict) or not isinstance(entry.get("path"), str)
                        or not entry["path"] or len(entry["path"]) > 510
                        or entry.get("type") not in ("A", "M", "D")):
                    raise HTTPError(400, f"commits[{i}].patch_set entries need a path (<= 510 "
                                         "characters) and a type A, M or D")
                files.append({"path": entry["path"], "type": entry["type"]})
            item["patch_set"] = files
        out.append(item)
    return out


def _validate_refs(refs: Any) -> List[Dict[str, Any]]:
    if not isinstance(refs, list):
        raise HTTPError(400, "refs must be a list")
    out = []
    for i, ref in enumerate(refs):
        if (not isinstance(ref, dict) or not isinstance(ref.get("repository"), str)
                or not ref["repository"] or not isinstance(ref.get("commit"), str)
                or not ref["commit"] or len(ref["commit"]) > 64):
            raise HTTPError(400, f"refs[{i}] needs a repository and a commit (<= 64 characters)")
        prev = ref.get("previousCommit")
        if prev is not None and (not isinstance(prev, str) or len(prev) > 64):
            raise HTTPError(400, f"refs[{i}].previousCommit must be a commit id")
        out.append({"repository": ref["repository"], "commit": ref["commit"],
                    "previousCommit": prev})
    return out


def update_release(ctx: Context, req: Request, org: str, version: str,
                   project: str = "") -> Response:
    """PUT .../releases/{version}/: dateReleased, url, ref, status, refs, commits, projects."""
    if project:
        _project(ctx, org, project)
    _release(ctx, org, version)
    body = _body_object(req)
    fields = _release_fields(body)
    commits = _validate_commits(body["commits"]) if body.get("commits") is not None else None
    refs = _validate_refs(body["refs"]) if body.get("refs") is not None else None
    project_ids = _project_ids(ctx, body.get("projects"))
    ctx.store.upsert_release(version, project_ids, fields)
    if refs is not None:
        ctx.store.set_release_refs(version, refs)
    if commits is not None:
        ctx.store.set_release_commits(version, commits)
    return json_response(release_json(ctx, ctx.store.release(version)))


def delete_release(ctx: Context, req: Request, org: str, version: str,
                   project: str = "") -> Response:
    _release(ctx, org, version)
    ctx.store.delete_release(version)
    return Response(b"", 204)


def release_commits(ctx: Context, req: Request, org: str, version: str,
                    project: str = "") -> Response:
    row = _release(ctx, org, version)
    return json_response([commit_json(c) for c in ctx.store.release_commits(row["id"])])


def previous_with_commits(ctx: Context, req: Request, org: str, version: str) -> Response:
    row = _release(ctx, org, version)
    prev = ctx.store.previous_release_with_commits(row)
    if prev is None:
        return json_response({})
    return json_response(release_json(ctx, prev))


def list_deploys(ctx: Context, req: Request, org: str, version: str) -> Response:
    row = _release(ctx, org, version)
    return json_response([deploy_json(d) for d in ctx.store.deploys(row["id"])])


def create_deploy(ctx: Context, req: Request, org: str, version: str) -> Response:
    _release(ctx, org, version)
    body = _body_object(req)
    env = body.get("environment")
    if not isinstance(env, str) or not env.strip() or len(env) > 64 or "/" in env \
            or any(ch in env for ch in "\n\r\t"):
        raise HTTPError(400, "environment must be a non-empty name of at most 64 characters "
                             "without '/' or line breaks")
    _project_ids(ctx, body.get("projects"))
    deploy = {"environment": env, "name": _opt_str(body, "name", 64),
              "url": _opt_str(body, "url", 1000),
              "date_started": to_iso(body.get("dateStarted")),
              "date_finished": to_iso(body.get("dateFinished"))}
    return json_response(deploy_json(ctx.store.add_deploy(version, deploy)), 201)


# -- release files (legacy) and reads of files and bundles ---------------------------------
def list_release_files(ctx: Context, req: Request, org: str, version: str,
                       project: str = "") -> Response:
    _release(ctx, org, version)
    return json_response([artifact_json(a) for a in ctx.store.release_artifacts(version)])


def get_release_file(ctx: Context, req: Request, org: str, version: str, file_id: str,
                     project: str = "") -> Response:
    _release(ctx, org, version)
    row = ctx.store.artifact(int(file_id)) if file_id.isdigit() else None
    if row is None or row["release"] != version:
        raise HTTPError(404, f"release file {file_id} does not exist")
    if req.query.get("download") in ("1", "true"):
        return Response(ctx.store.artifact_data(row["id"]) or b"", 200,
                        "application/octet-stream")
    return json_response(artifact_json(row))


def upload_release_file(ctx: Context, req: Request, org: str, version: str,
                        project: str = "") -> Response:
    """POST .../releases/{version}/files/ multipart: file, name, dist, header=K:V."""
    _release(ctx, org, version)
    parts = parse_multipart(req.body(MAX_REQUEST_SIZE + 1024 * 1024),
                            req.header("Content-Type") or "")
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
    dist = (fields.get("dist") or [None])[-1] or None
    row = ctx.store.add_release_file(version, name, file_part["data"], dist, headers)
    if row is None:
        raise HTTPError(409, f"a file named {name!r} already exists for release {version!r}")
    return json_response(artifact_json(row), 201)


def list_release_bundles(ctx: Context, req: Request, org: str, version: str) -> Response:
    _release(ctx, org, version)
    return json_response([bundle_json(b) for b in ctx.store.bundles(version)])


# -- chunk upload and assemble -----------------------------------------------------------------
def chunk_options(ctx: Context, req: Request, org: str) -> Response:
    _org(ctx, org)
    return json_response({
        "url": f"{req.base_url}/api/0/organizations/{org}/chunk-upload/",
        "chunkSize": CHUNK_SIZE, "chunksPerRequest": CHUNKS_PER_REQUEST,
        "maxFileSize": MAX_FILE_SIZE, "maxRequestSize": MAX_REQUEST_SIZE,
        "concurrency": 2, "hashAlgorithm": "sha1", "compression": ["gzip"],
        "accept": ACCEPT,
    })


def upload_chunks(ctx: Context, req: Request, org: str) -> Response:
    """POST chunk-upload/: multipart parts ``file`` / ``file_gzip`` named by their SHA-1."""
    _org(ctx, org)
    parts = parse_multipart(req.body(MAX_REQUEST_SIZE + 1024 * 1024, MAX_REQUEST_SIZE * 2),
                            req.header("Content-Type") or "")
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
            raise HTTPError(400, f"chunk checksum mismatch: named {part['filename']!r}, "
                                 f"content is {digest}")
        chunks.append((digest, data))
    if len(chunks) > CHUNKS_PER_REQUEST:
        raise HTTPError(400, f"more than {CHUNKS_PER_REQUEST} chunks in one request")
    ctx.store.put_chunks(chunks)
    return json_response({})


def _checksum_list(value: Any, what: str) -> List[str]:
    if not isinstance(value, list) or not all(
            isinstance(c, str) and len(c) == 40 and all(ch in "0123456789abcdef" for ch in c.lower())
            for c in value):
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
    _org(ctx, org)
    body = _body_object(req)
    checksum = body.get("checksum")
    if not isinstance(checksum, str) or len(_checksum_list([checksum], "checksum")) != 1:
        raise HTTPError(400, "checksum must be a SHA-1 hex checksum")
    checksum = checksum.lower()
    chunks = _checksum_list(body.get("chunks", []), "chunks")
    project_slugs = body.get("projects") or []
    _project_ids(ctx, project_slugs)
    version = _opt_str(body, "version", 250)
    dist = _opt_str(body, "dist", 64)
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
    release = version or (manifest.get("release") if isinstance(manifest.get("release"), str)
                          else None)
    if release and release_name_error(release):
        return json_response({"state": "error", "missingChunks": [],
                              "detail": f"invalid release: {release_name_error(release)}"})
    meta = {"release": release,
            "dist": dist or (manifest.get("dist") if isinstance(manifest.get("dist"), str)
                             else None),
            "bundle_id": str(manifest.get("debug_id") or "") or None,
            "projects": project_slugs}
    ctx.store.add_bundle(checksum, data, meta, bundle["files"])
    ctx.store.delete_chunks(chunks)
    return json_response({"state": "ok", "missingChunks": [], "detail": None})


def _dif_json(row) -> Dict[str, Any]:
    return {"id": str(row["id"]), "uuid": row["debug_id"], "debugId": row["debug_id"],
            "codeId": row["code_id"], "objectName": row["object_name"] or row["name"],
            "cpuName": row["cpu_name"] or "unknown", "sha1": row["checksum"],
            "size": row["size"], "dateCreated": row["date_added"], "symbolType": row["kind"],
            "headers": {}, "data": {"features": []}}


def read_debug_info(data: bytes, name: str, requested: Optional[str]) -> Dict[str, Any]:
    """Debug identifiers of an uploaded debug file.

    Reads the file with ``releasetag.artifacts.debugfiles.inspect`` when that module is
    installed (it parses ELF, Mach-O, PE, PDB, Breakpad, wasm); otherwise, or when it finds
    nothing, keeps the debug ID the client sent (sentry-cli sends it) or none."""
    info: Dict[str, Any] = {"name": name, "debug_id": requested, "object_name": name}
    try:
        from ..artifacts import debugfiles  # type: ignore[attr-defined]
    except ImportError:
        debugfiles = None
    inspect = getattr(debugfiles, "inspect", None)
    if inspect is not None:
        import os
        import tempfile
        fd, tmp = tempfile.mkstemp(prefix="releasetag-collector-dif-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            found = inspect(tmp, display=name)
            objects = [o for o in getattr(found, "objects", []) if getattr(o, "debug_id", None)]
            match = next((o for o in objects if requested and
                          str(o.debug_id).lower() == requested.lower()), None)
            obj = match or (objects[0] if objects else None)
            if obj is not None:
                info.update(debug_id=obj.debug_id, code_id=obj.code_id, cpu_name=obj.arch,
                            kind=getattr(found, "kind", None))
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
    project_row = _project(ctx, org, project)
    body = _body_object(req)
    out: Dict[str, Any] = {}
    for checksum, spec in body.items():
        _checksum_list([checksum], "each key")
        checksum = checksum.lower()
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise HTTPError(400, f"entry {checksum} needs a name and chunks")
        chunks = _checksum_list(spec.get("chunks", []), "chunks")
        existing = ctx.store.debug_file(project_row["id"], checksum)
        if existing is not None:
            out[checksum] = {"state": "ok", "missingChunks": [], "detail": None,
                             "dif": _dif_json(existing)}
            continue
        missing = ctx.store.missing_chunks(chunks)
        if missing or not chunks:
            out[checksum] = {"state": "not_found", "missingChunks": missing, "detail": None,
                             "dif": None}
            continue
        try:
            data = _assemble_bytes(ctx.store, checksum, chunks)
        except ValueError as exc:
            out[checksum] = {"state": "error", "missingChunks": [], "detail": str(exc),
                             "dif": None}
            continue
        debug_id = spec.get("debug_id") if isinstance(spec.get("debug_id"), str) else None
        info = read_debug_info(data, spec["name"][:500], debug_id)
        row = ctx.store.add_debug_file(project_row["id"], checksum, data, info)
        ctx.store.delete_chunks(chunks)
        out[checksum] = {"state": "ok", "missingChunks": [], "detail": None,
                         "dif": _dif_json(row)}
    return json_response(out)


def list_debug_files(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = _project(ctx, org, project)
    return json_response([_dif_json(r) for r in ctx.store.debug_files(project_row["id"])])


# -- events (read) -----------------------------------------------------------------------------
def list_events(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = _project(ctx, org, project)
    try:
        limit = min(max(int(req.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise HTTPError(400, "limit must be a number") from None
    rows = ctx.store.events(project_row["id"], release=req.query.get("release"),
                            environment=req.query.get("environment"), limit=limit)
    return json_response([event_summary_json(r) for r in rows])


def get_event(ctx: Context, req: Request, org: str, project: str, event_id: str) -> Response:
    project_row = _project(ctx, org, project)
    row = ctx.store.event(event_id, project_row["id"])
    if row is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    data = event_summary_json(row)
    data["payload"] = json.loads(row["payload"])
    data["attachments"] = [dict(a) for a in ctx.store.attachments(row["event_id"])]
    return json_response(data)


def list_client_reports(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = _project(ctx, org, project)
    return json_response(ctx.store.client_reports(project_row["id"]))


_O = r"/api/0/organizations/(?P<org>[^/]+)"
_P = r"/api/0/projects/(?P<org>[^/]+)/(?P<project>[^/]+)"
_V = r"/releases/(?P<version>[^/]+)"

# (method, path regex, handler); every route needs the API token.
ROUTES = [
    ("GET", r"/api/0/", api_root),
    ("GET", r"/api/0/organizations/", list_orgs),
    ("GET", _O + r"/", get_org),
    ("GET", _O + r"/projects/", list_projects),
    ("GET", r"/api/0/projects/", list_projects),
    ("GET", _P + r"/", get_project),
    ("GET", _O + r"/repos/", list_repos),
    ("POST", _O + r"/repos/", create_repo),
    ("POST", _O + r"/releases/", create_release),
    ("GET", _O + r"/releases/", list_releases),
    ("POST", _P + r"/releases/", create_release),
    ("GET", _P + r"/releases/", list_releases),
    ("GET", _O + _V + r"/", get_release),
    ("PUT", _O + _V + r"/", update_release),
    ("DELETE", _O + _V + r"/", delete_release),
    ("GET", _P + _V + r"/", get_release),
    ("PUT", _P + _V + r"/", update_release),
    ("DELETE", _P + _V + r"/", delete_release),
    ("GET", _O + _V + r"/commits/", release_commits),
    ("GET", _P + _V + r"/commits/", release_commits),
    ("GET", _O + _V + r"/previous-with-commits/", previous_with_commits),
    ("GET", _O + _V + r"/deploys/", list_deploys),
    ("POST", _O + _V + r"/deploys/", create_deploy),
    ("GET", _O + _V + r"/files/", list_release_files),
    ("POST", _O + _V + r"/files/", upload_release_file),
    ("GET", _O + _V + r"/files/(?P<file_id>[^/]+)/", get_release_file),
    ("GET", _P + _V + r"/files/", list_release_files),
    ("POST", _P + _V + r"/files/", upload_release_file),
    ("GET", _P + _V + r"/files/(?P<file_id>[^/]+)/", get_release_file),
    ("GET", _O + _V + r"/bundles/", list_release_bundles),
    ("GET", _O + r"/chunk-upload/", chunk_options),
    ("POST", _O + r"/chunk-upload/", upload_chunks),
    ("POST", _O + r"/artifactbundle/assemble/", assemble_bundle),
    ("POST", _P + r"/files/difs/assemble/", assemble_difs),
    ("GET", _P + r"/files/dsyms/", list_debug_files),
    ("GET", _P + r"/events/", list_events),
    ("GET", _P + r"/events/(?P<event_id>[^/]+)/", get_event),
    ("GET", _P + r"/client-reports/", list_client_reports),
]
