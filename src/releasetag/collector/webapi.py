"""The build-time Web API (docs/protocol.md §3) under ``/api/0``, plus read endpoints for people and
tests. Every handler takes ``(ctx, req, **path_params)`` and returns a Response or raises
HTTPError; the routes of this module and of ``uploads`` are listed in ``ROUTES``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Tuple
from urllib.parse import quote

from releasetag.collector.db.store import to_iso
from releasetag.protocol.release import release_name_error

from . import health, notify, pipeline_marks, uploads
from .context import (
    Context,
    body_object,
    check_token,
    opt_str,
    require_org,
    require_project,
    require_release,
    resolve_projects,
)
from .grouping import exception_values
from .request_response import HTTPError, Request, Response, json_response

__all__ = ["Context", "check_token", "ROUTES"]


# -- JSON shapes -------------------------------------------------------------------------------
def project_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "platform": "python",
        "platforms": ["python"],
        "newGroups": 0,
        "dateCreated": row["date_created"],
        "hasAccess": True,
        "isMember": True,
    }


def org_json(ctx: Context, base_url: str = "") -> Dict[str, Any]:
    return {
        "id": "1",
        "slug": ctx.org,
        "name": ctx.org,
        "dateCreated": ctx.store.get_meta("created") or "1970-01-01T00:00:00Z",
        "status": {"id": "active", "name": "active"},
        "isEarlyAdopter": False,
        "require2FA": False,
        "features": [],
        "links": {"organizationUrl": base_url, "regionUrl": base_url},
    }


def commit_json(row: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "id": row["key"],
        "message": row.get("message"),
        "dateCreated": row.get("timestamp"),
        "author": (
            {"name": row.get("author_name"), "email": row.get("author_email")}
            if row.get("author_name") or row.get("author_email")
            else None
        ),
        "repository": {"name": row.get("repo_name")},
        "patch_set": row.get("files", []),
    }


def repo_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "url": row["url"],
        "provider": {"id": row["provider"], "name": "Local"},
        "status": "active",
        "dateCreated": row["date_created"],
        "integrationId": None,
        "externalSlug": row["name"],
    }


def deploy_json(row: Any) -> Dict[str, Any]:
    return {
        "id": str(row["id"]),
        "environment": row["environment"],
        "name": row["name"],
        "url": row["url"],
        "dateStarted": row["date_started"],
        "dateFinished": row["date_finished"],
        "rollbackFrom": row["rollback_from"],  # the newer release it went back from (or None)
    }


def release_json(
    ctx: Context,
    row: Any,
    health_of: Optional[List[str]] = None,
    with_health: bool = False,
    summary: Optional[Dict[str, Any]] = None,
    with_sessions: Optional[Set[Tuple[str, int]]] = None,
) -> Dict[str, Any]:
    """A release in Sentry's shape; ``with_health`` adds each project's ``healthData``
    (over the environments ``health_of``, or all). A listing passes the ``summary`` of
    ``store.release_summaries`` and ``store.releases_with_sessions``, read for all its
    releases at once."""
    store = ctx.store
    if summary is None:
        summary = store.release_summaries([row["id"]])[row["id"]]
    if with_sessions is None:
        with_sessions = store.releases_with_sessions([row["version"]])
    counts = summary["counts"]
    last_commit = summary["last_commit"]
    last_deploy = summary["last_deploy"]
    return {
        "id": row["id"],
        "version": row["version"],
        "shortVersion": row["version"],
        "ref": row["ref"],
        "url": row["url"],
        "status": row["status"],
        "dateCreated": row["date_created"],
        "dateStarted": row["date_started"],
        "dateReleased": row["date_released"],
        "lastEvent": max((c["last"] for c in counts), default=None),
        "firstEvent": None,
        "newGroups": summary["new_groups"],
        "eventCount": sum(c["count"] for c in counts),
        "environments": [c["environment"] for c in counts if c["environment"]],
        "commitCount": summary["commit_count"],
        "lastCommit": commit_json(dict(last_commit)) if last_commit else None,
        "deployCount": summary["deploy_count"],
        "lastDeploy": deploy_json(last_deploy) if last_deploy else None,
        "authors": [],
        "owner": None,
        "data": {},
        "projects": [
            {
                "id": p["id"],
                "slug": p["slug"],
                "name": p["name"],
                "newGroups": 0,
                "platform": "python",
                "platforms": ["python"],
                "hasHealthData": (row["version"], p["id"]) in with_sessions,
                **(
                    {"healthData": health.health_data(store, row["version"], p["id"], health_of)}
                    if with_health
                    else {}
                ),
            }
            for p in summary["projects"]
        ],
    }


def _health_args(req: Request) -> Dict[str, Any]:
    """``?health=1`` and ``?environment=`` of the release endpoints."""
    return {
        "with_health": (req.query.get("health") or "").lower() in ("1", "true", "yes"),
        "health_of": req.query_all("environment") or None,
    }


def event_summary_json(row: Any) -> Dict[str, Any]:
    payload = json.loads(row["payload"])
    tags = payload.get("tags") or {}
    if isinstance(tags, dict):
        tags = [{"key": str(k), "value": str(v)} for k, v in tags.items()]
    elif isinstance(tags, list):
        tags = [
            {"key": str(t[0]), "value": str(t[1])}
            for t in tags
            if isinstance(t, (list, tuple)) and len(t) == 2
        ]
    else:
        tags = []
    return {
        "id": row["event_id"],
        "eventID": row["event_id"],
        "projectID": str(row["project_id"]),
        "title": row["title"],
        "message": row["message"],
        "level": row["level"],
        "platform": row["platform"],
        "release": row["release"],
        "environment": row["environment"],
        "dist": row["dist"],
        "culprit": row["culprit"],
        "dateCreated": row["timestamp"],
        "dateReceived": row["received"],
        "tags": tags,
    }


# -- organizations, projects, repos ------------------------------------------------------------
def api_root(ctx: Context, req: Request) -> Response:
    return json_response(
        {"version": "0", "auth": {"scopes": ["org:read", "project:releases"]}, "user": None}
    )


def list_orgs(ctx: Context, req: Request) -> Response:
    return json_response([org_json(ctx, req.base_url)])


def get_org(ctx: Context, req: Request, org: str) -> Response:
    require_org(ctx, org)
    data = org_json(ctx, req.base_url)
    data["projects"] = [project_json(p) for p in ctx.store.projects()]
    return json_response(data)


def list_projects(ctx: Context, req: Request, org: str = "") -> Response:
    if org:
        require_org(ctx, org)
    out = []
    for p in ctx.store.projects():
        data = project_json(p)
        data["organization"] = org_json(ctx)
        out.append(data)
    return json_response(out)


def get_project(ctx: Context, req: Request, org: str, project: str) -> Response:
    return json_response(project_json(require_project(ctx, org, project)))


def list_repos(ctx: Context, req: Request, org: str) -> Response:
    require_org(ctx, org)
    return json_response([repo_json(r) for r in ctx.store.repos()])


def create_repo(ctx: Context, req: Request, org: str) -> Response:
    """POST .../repos/ {name, url?}: register a repository (clients such as sentry-cli check
    ``--commit owner/repo@sha`` against the repository list)."""
    require_org(ctx, org)
    body = body_object(req)
    name = opt_str(body, "name", 200)
    if not name or not name.strip():
        raise HTTPError(400, "name is required (e.g. owner/repo)")
    url = opt_str(body, "url", 1000)
    row, created = ctx.store.add_repo(name.strip(), url)
    return json_response(repo_json(row), 201 if created else 200)


# -- releases ----------------------------------------------------------------------------------
def _release_fields(body: Dict[str, Any]) -> Dict[str, Any]:
    fields: Dict[str, Any] = {}
    for key, column in (("url", "url"), ("ref", "ref")):
        if key in body:
            fields[column] = opt_str(body, key)
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
        project_row = require_project(ctx, org, project)
    else:
        require_org(ctx, org)
        project_row = None
    body = body_object(req)
    version = body.get("version")
    problem = release_name_error(version)
    if problem:
        raise HTTPError(400, f"invalid release version: {problem}")
    assert isinstance(version, str)
    project_ids = resolve_projects(ctx, body.get("projects"))
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
    project_id = require_project(ctx, org, project)["id"] if project else None
    if not project:
        require_org(ctx, org)
        if req.query.get("project", "").isdigit():
            project_id = int(req.query["project"])
    rows = ctx.store.releases(project_id, req.query.get("query") or None)
    args = _health_args(req)
    # a fixed number of statements for any number of releases (health data aside)
    summaries = ctx.store.release_summaries([r["id"] for r in rows])
    sessions = ctx.store.releases_with_sessions([r["version"] for r in rows])
    return json_response(
        [
            release_json(ctx, r, **args, summary=summaries[r["id"]], with_sessions=sessions)
            for r in rows
        ]
    )


def get_release(ctx: Context, req: Request, org: str, version: str, project: str = "") -> Response:
    if project:
        require_project(ctx, org, project)
    row = require_release(ctx, org, version)
    data = release_json(ctx, row, **_health_args(req))
    return json_response(dict(data, **pipeline_marks.release_fields(ctx.store, row)))


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
        item: Dict[str, Any] = {"id": cid}
        for key, limit in (
            ("repository", 200),
            ("message", 100000),
            ("author_name", 128),
            ("author_email", 75),
        ):
            try:
                value = opt_str(commit, key, limit)
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
                if (
                    not isinstance(entry, dict)
                    or not isinstance(entry.get("path"), str)
                    or not entry["path"]
                    or len(entry["path"]) > 510
                    or entry.get("type") not in ("A", "M", "D")
                ):
                    raise HTTPError(
                        400,
                        f"commits[{i}].patch_set entries need a path (<= 510 "
                        "characters) and a type A, M or D",
                    )
                files.append({"path": entry["path"], "type": entry["type"]})
            item["patch_set"] = files
        out.append(item)
    return out


def _validate_refs(refs: Any) -> List[Dict[str, Any]]:
    if not isinstance(refs, list):
        raise HTTPError(400, "refs must be a list")
    out = []
    for i, ref in enumerate(refs):
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("repository"), str)
            or not ref["repository"]
            or not isinstance(ref.get("commit"), str)
            or not ref["commit"]
            or len(ref["commit"]) > 64
        ):
            raise HTTPError(400, f"refs[{i}] needs a repository and a commit (<= 64 characters)")
        prev = ref.get("previousCommit")
        if prev is not None and (not isinstance(prev, str) or len(prev) > 64):
            raise HTTPError(400, f"refs[{i}].previousCommit must be a commit id")
        out.append(
            {"repository": ref["repository"], "commit": ref["commit"], "previousCommit": prev}
        )
    return out


def update_release(
    ctx: Context, req: Request, org: str, version: str, project: str = ""
) -> Response:
    """PUT .../releases/{version}/: dateReleased, url, ref, status, refs, commits, projects."""
    if project:
        require_project(ctx, org, project)
    require_release(ctx, org, version)
    body = body_object(req)
    fields = _release_fields(body)
    commits = _validate_commits(body["commits"]) if body.get("commits") is not None else None
    refs = _validate_refs(body["refs"]) if body.get("refs") is not None else None
    project_ids = resolve_projects(ctx, body.get("projects"))
    ctx.store.upsert_release(version, project_ids, fields)
    if refs is not None:
        ctx.store.set_release_refs(version, refs)
    if commits is not None:
        ctx.store.set_release_commits(version, commits)
    return json_response(release_json(ctx, ctx.store.release(version)))


def delete_release(
    ctx: Context, req: Request, org: str, version: str, project: str = ""
) -> Response:
    require_release(ctx, org, version)
    ctx.store.delete_release(version)
    return Response(b"", 204)


def release_commits(
    ctx: Context, req: Request, org: str, version: str, project: str = ""
) -> Response:
    row = require_release(ctx, org, version)
    return json_response([commit_json(c) for c in ctx.store.release_commits(row["id"])])


def previous_with_commits(ctx: Context, req: Request, org: str, version: str) -> Response:
    row = require_release(ctx, org, version)
    prev = ctx.store.previous_release_with_commits(row)
    if prev is None:
        return json_response({})
    return json_response(release_json(ctx, prev))


def list_deploys(ctx: Context, req: Request, org: str, version: str) -> Response:
    row = require_release(ctx, org, version)
    deploys = ctx.store.deploys(row["id"])
    told = notify.notifications(ctx.store, [d["id"] for d in deploys])
    return json_response([dict(deploy_json(d), notifications=told[d["id"]]) for d in deploys])


def create_deploy(ctx: Context, req: Request, org: str, version: str) -> Response:
    require_release(ctx, org, version)
    body = body_object(req)
    env = body.get("environment")
    if (
        not isinstance(env, str)
        or not env.strip()
        or len(env) > 64
        or "/" in env
        or any(ch in env for ch in "\n\r\t")
    ):
        raise HTTPError(
            400,
            "environment must be a non-empty name of at most 64 characters "
            "without '/' or line breaks",
        )
    resolve_projects(ctx, body.get("projects"))
    deploy = {
        "environment": env,
        "name": opt_str(body, "name", 64),
        "url": opt_str(body, "url", 1000),
        "date_started": to_iso(body.get("dateStarted")),
        "date_finished": to_iso(body.get("dateFinished")),
    }
    # the release's commit authors hear about it (or are recorded as not told: no --smtp);
    # the deploy and those records are stored together
    row, told = notify.notify_deploy(
        ctx.store,
        ctx.mailer,
        version,
        deploy,
        f"{req.base_url}/releases/{quote(version, safe='')}/",
    )
    row = pipeline_marks.after_deploy(ctx.store, version, row["id"])
    return json_response(dict(deploy_json(row), notifications=told), 201)


# -- events (read) -----------------------------------------------------------------------------
def list_events(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = require_project(ctx, org, project)
    try:
        limit = min(max(int(req.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise HTTPError(400, "limit must be a number") from None
    rows = ctx.store.events(
        project_row["id"],
        release=req.query.get("release"),
        environment=req.query.get("environment"),
        limit=limit,
    )
    return json_response([event_summary_json(r) for r in rows])


def get_event(ctx: Context, req: Request, org: str, project: str, event_id: str) -> Response:
    project_row = require_project(ctx, org, project)
    row = ctx.store.event(event_id, project_row["id"])
    if row is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    data = event_summary_json(row)
    data["payload"] = json.loads(row["payload"])
    if isinstance(data["payload"], dict):  # for a person: ``sourcemaps explain`` reads this
        from .unminify import add_nearest_names

        add_nearest_names(ctx.store, data["payload"])
    data["entries"] = event_entries(data["payload"])
    data["attachments"] = [dict(a) for a in ctx.store.attachments(row["event_id"])]
    return json_response(data)


def event_entries(payload: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The event's interfaces as Sentry's event API lists them (``entries``): exceptions with
    their resolved ``stacktrace`` and the original ``rawStacktrace``."""
    values = exception_values(payload)
    entries: List[Dict[str, Any]] = []
    if values:
        out = []
        for value in values:
            item = {k: v for k, v in value.items() if k != "raw_stacktrace"}
            item["rawStacktrace"] = value.get("raw_stacktrace")
            out.append(item)
        entries.append({"type": "exception", "data": {"values": out}})
    return entries


def list_client_reports(ctx: Context, req: Request, org: str, project: str) -> Response:
    project_row = require_project(ctx, org, project)
    return json_response(ctx.store.client_reports(project_row["id"]))


def list_rejected_items(ctx: Context, req: Request, org: str, project: str) -> Response:
    """How many envelope items the collector refused, per item type and reason."""
    project_row = require_project(ctx, org, project)
    return json_response(
        [
            {
                "type": r["item_type"],
                "reason": r["reason"],
                "count": r["count"],
                "lastSeen": r["last_seen"],
            }
            for r in ctx.store.rejected_counts(project_row["id"])
        ]
    )


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
    ("GET", _O + _V + r"/files/", uploads.list_release_files),
    ("POST", _O + _V + r"/files/", uploads.upload_release_file),
    ("GET", _O + _V + r"/files/(?P<file_id>[^/]+)/", uploads.get_release_file),
    ("GET", _P + _V + r"/files/", uploads.list_release_files),
    ("POST", _P + _V + r"/files/", uploads.upload_release_file),
    ("GET", _P + _V + r"/files/(?P<file_id>[^/]+)/", uploads.get_release_file),
    ("GET", _O + _V + r"/bundles/", uploads.list_release_bundles),
    ("GET", _O + r"/chunk-upload/", uploads.chunk_options),
    ("POST", _O + r"/chunk-upload/", uploads.upload_chunks),
    ("POST", _O + r"/artifactbundle/assemble/", uploads.assemble_bundle),
    ("POST", _P + r"/files/difs/assemble/", uploads.assemble_difs),
    ("GET", _P + r"/files/dsyms/", uploads.list_debug_files),
    ("GET", _P + r"/artifact-lookup/", uploads.artifact_lookup),
    ("GET", _P + r"/events/", list_events),
    ("GET", _P + r"/events/(?P<event_id>[^/]+)/", get_event),
    ("GET", _P + r"/client-reports/", list_client_reports),
    ("GET", _P + r"/rejected-items/", list_rejected_items),
]
