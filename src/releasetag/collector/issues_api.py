"""The issues API in Sentry's shapes (``/api/0/.../issues/``), over ``insights``.

- ``GET /api/0/projects/{org}/{project}/issues/?query=is:unresolved release:X environment:E``
  (also ``first-release:X`` and free text; no ``query`` means ``is:unresolved``)
- ``PUT /api/0/projects/{org}/{project}/issues/?id=1&id=2`` (the same change to several)
- ``GET|PUT /api/0/issues/{id}/`` (id or short ID); PUT takes ``status`` (resolved,
  unresolved, resolvedInNextRelease), ``statusDetails`` (``inRelease``, ``inNextRelease``)
  and ``assignedTo``
- ``GET /api/0/issues/{id}/events/``, ``GET /api/0/issues/{id}/suspect-commits/``
- ``GET /api/0/projects/{org}/{project}/events/{event_id}/committers/`` (Sentry's suspect
  commits of an event), ``GET /api/0/organizations/{org}/shortids/{short_id}/``
- ``GET /api/0/organizations/{org}/releases/{version}/issues/``: new issues, regressions,
  resolutions and the commit messages' issue references of a release
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from . import insights
from .context import Context, body_object, require_org, require_project, require_release
from .insights import Issue
from .request_response import HTTPError, Request, Response, json_response
from .webapi import event_summary_json

_TOKEN = re.compile(r'(!?[\w.-]+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)')
_STATUSES = ("unresolved", "resolved", "regressed", "ignored")


def parse_query(text: str) -> Dict[str, Any]:
    """Sentry issue search text as filters: is, release, environment, first-release, text."""
    out: Dict[str, Any] = {}
    words: List[str] = []
    for key, quoted, plain, free_q, free in _TOKEN.findall(text or ""):
        if key:
            value = quoted if quoted or not plain else plain
            key = key.lower()
            if key == "is":
                if value not in _STATUSES:
                    raise HTTPError(
                        400,
                        f"is:{value} is not supported (use is:unresolved, "
                        "is:resolved, is:regressed or is:ignored)",
                    )
                out["status"] = value
            elif key in ("release", "environment"):
                out[key] = value
            elif key in ("first-release", "firstrelease", "first_release"):
                out["first_release"] = value
            else:
                raise HTTPError(
                    400,
                    f"unsupported search key {key!r} (use is:, release:, "
                    "environment:, first-release: or free text)",
                )
        else:
            words.append(free_q or free)
    if words:
        out["text"] = " ".join(words)
    return out


# -- JSON shapes -------------------------------------------------------------------------------
def _release_ref(ctx: Context, release_id: Optional[int]) -> Optional[Dict[str, Any]]:
    version = insights.release_version(ctx.store, release_id)
    return {"version": version, "shortVersion": version} if version else None


def _status_details(ctx: Context, row: Issue) -> Dict[str, Any]:
    if row["status"] != "resolved":
        return {}
    version = insights.release_version(ctx.store, row["resolved_release_id"])
    kind = row["resolved_kind"]
    if kind == "inNextRelease":
        return {"inNextRelease": True, "actor": None}
    if kind == "inCommit":
        key = (row["resolved_by"] or "").replace("commit ", "", 1)
        return {"inCommit": {"id": key}, "inRelease": version}
    if kind == "inRelease":
        return {"inRelease": version, "actor": None}
    return {}


def commit_json(c: Dict[str, Any]) -> Dict[str, Any]:
    author = (
        {"name": c.get("author_name"), "email": c.get("author_email")}
        if c.get("author_name") or c.get("author_email")
        else None
    )
    return {
        "id": c["key"],
        "message": c.get("message"),
        "dateCreated": c.get("timestamp"),
        "author": author,
        "repository": {"name": c.get("repo_name")},
        "release": {"version": c.get("release")},
        "files": c.get("files", []),
        "framesTouched": c.get("frames_touched"),
        "score": c.get("frames_touched"),
        "suspectCommitType": "via commit in release",
    }


def _status_of(row: Issue) -> Tuple[str, Optional[str]]:
    """Sentry's (status, substatus) of an issue row."""
    status = row["status"] if row["status"] in ("resolved", "ignored") else "unresolved"
    if row["status"] == "regressed":
        return status, "regressed"
    if status == "unresolved":
        return status, "new" if row["times_seen"] <= 1 else "ongoing"
    return status, None


def _project_ref(project: Any) -> Optional[Dict[str, Any]]:
    if not project:
        return None
    return {
        "id": str(project["id"]),
        "slug": project["slug"],
        "name": project["name"],
        "platform": "python",
    }


def _assignee_ref(who: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if not who:
        return None
    return {
        "type": "user",
        "id": who.get("email") or who["name"],
        "name": who["name"],
        "email": who.get("email"),
    }


def _issue_details(ctx: Context, row: Issue, suspects: List[Any]) -> Dict[str, Any]:
    """The fields only the single-issue answer carries: suspects, regressions, releases."""
    store = ctx.store
    return {
        "suspectCommits": [commit_json(c) for c in suspects],
        "regressions": [
            {
                "release": r["release"],
                "resolvedInRelease": r["resolved_release"],
                "environment": r["environment"] or None,
                "eventID": r["event_id"],
                "date": r["date"],
            }
            for r in insights.regressions(store, row["id"])
        ],
        "releases": [
            {
                "release": r["version"],
                "environment": r["environment"] or None,
                "count": r["times_seen"],
                "firstSeen": r["first_seen"],
                "lastSeen": r["last_seen"],
            }
            for r in insights.group_releases(store, row["id"])
        ],
    }


def issue_json(ctx: Context, req: Request, row: Issue, details: bool = False) -> Dict[str, Any]:
    """An issue in the shape Sentry's issues API answers (``details``: the single-issue one)."""
    store = ctx.store
    suspects = insights.suspect_commits(store, row)
    who = insights.assignee(store, row, suspects)
    status, substatus = _status_of(row)
    data: Dict[str, Any] = {
        "id": str(row["id"]),
        "shortId": insights.short_id_of(store, row),
        "title": row["title"],
        "culprit": row["culprit"],
        "permalink": f"{req.base_url}/issues/{row['id']}/",
        "level": row["level"],
        "status": status,
        "substatus": substatus,
        "statusDetails": _status_details(ctx, row),
        "isPublic": False,
        "platform": "python",
        "project": _project_ref(store.project(row["project_id"])),
        "type": row["type"],
        "metadata": {
            "type": row["exception_type"],
            "value": row["exception_value"],
            "title": row["title"],
        },
        "numComments": 0,
        "isBookmarked": False,
        "isSubscribed": False,
        "hasSeen": False,
        "annotations": [],
        "isUnhandled": False,
        "shareId": None,
        "assignedTo": _assignee_ref(who),
        "assigneeSource": who["source"] if who else None,
        "count": str(row["times_seen"]),
        "userCount": row["user_count"],
        "firstSeen": row["first_seen"],
        "lastSeen": row["last_seen"],
        "firstRelease": _release_ref(ctx, row["first_release_id"]),
        "lastRelease": _release_ref(ctx, row["last_release_id"]),
        "resolution": insights.resolution(store, row),
    }
    if details:
        data.update(_issue_details(ctx, row, suspects))
    return data


# -- handlers ----------------------------------------------------------------------------------
def _issue(ctx: Context, issue_id: str, org: str = "") -> Issue:
    if org:
        require_org(ctx, org)
    row = insights.group(ctx.store, issue_id)
    if row is None:
        raise HTTPError(404, f"issue {issue_id!r} does not exist")
    return row


def _limit(req: Request) -> int:
    try:
        return min(max(int(req.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise HTTPError(400, "limit must be a number") from None


# Sentry's ``sort`` of the issues list -> ours (its trends, inbox and priority are not kept)
API_SORTS = {"date": "last_seen", "new": "first_seen", "freq": "events", "user": "users"}


def _sort(req: Request) -> str:
    sort = req.query.get("sort", "date")
    if sort not in API_SORTS:
        raise HTTPError(400, f"sort must be one of {', '.join(API_SORTS)} (not {sort[:40]!r})")
    return API_SORTS[sort]


def list_issues(ctx: Context, req: Request, org: str, project: str = "") -> Response:
    if project:
        project_row = require_project(ctx, org, project)
    else:
        require_org(ctx, org)
        wanted = req.query.get("project")
        projects = ctx.store.projects()
        project_row = ctx.store.project(wanted) if wanted else projects[0] if projects else None
        if project_row is None:
            raise HTTPError(404, f"unknown project {wanted!r}")
    filters = parse_query(req.query["query"] if "query" in req.query else "is:unresolved")
    if req.query.get("environment") and "environment" not in filters:
        filters["environment"] = req.query["environment"]
    rows = insights.issues(
        ctx.store, project_row["id"], limit=_limit(req), sort=_sort(req), **filters
    )
    return json_response([issue_json(ctx, req, r) for r in rows])


def get_issue(ctx: Context, req: Request, issue_id: str, org: str = "") -> Response:
    return json_response(issue_json(ctx, req, _issue(ctx, issue_id, org), details=True))


_UPDATE_STATUSES = ("resolved", "unresolved", "resolvedInNextRelease", "ignored", "muted")


def _check_update(ctx: Context, body: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
    """(status, statusDetails) of a PUT body, checked before anything changes (400s)."""
    details = body.get("statusDetails") or {}
    if not isinstance(details, dict):
        raise HTTPError(400, "statusDetails must be an object")
    status = body.get("status")
    if status is None and details:
        status = "resolved"
    if status is not None and status not in _UPDATE_STATUSES:
        raise HTTPError(
            400,
            f"status {status!r} is not supported (use resolved, unresolved, "
            "resolvedInNextRelease or ignored)",
        )
    in_release = details.get("inRelease")
    if in_release is not None:
        if not isinstance(in_release, str):
            raise HTTPError(400, "statusDetails.inRelease must be a release version")
        if ctx.store.release(in_release) is None:
            raise HTTPError(400, f"release {in_release!r} does not exist")
    who = body.get("assignedTo")
    if who is not None and not isinstance(who, str):
        raise HTTPError(400, "assignedTo must be a name or an email address")
    return status, details


def _apply_update(
    ctx: Context, row: Issue, body: Dict[str, Any], status: Optional[str], details: Dict[str, Any]
) -> None:
    """Status, statusDetails and assignedTo of a checked PUT body, applied to one issue."""
    if status is not None:
        try:
            insights.update_status(ctx.store, row, status, details)
        except insights.InsightError as exc:
            raise HTTPError(400, str(exc)) from None
    if "assignedTo" in body:
        insights.assign(ctx.store, row, body["assignedTo"])


def update_issue(ctx: Context, req: Request, issue_id: str, org: str = "") -> Response:
    row = _issue(ctx, issue_id, org)
    body = body_object(req)
    _apply_update(ctx, row, body, *_check_update(ctx, body))
    fresh = insights.group(ctx.store, str(row["id"]))
    assert fresh is not None
    return json_response(issue_json(ctx, req, fresh, details=True))


def bulk_update(ctx: Context, req: Request, org: str, project: str) -> Response:
    """``PUT .../issues/?id=1&id=2``: the same change to each listed issue of the project, or
    without ids to the issues ``query``/``status`` select (default: the unresolved ones).
    All is checked before anything changes; answers with the new status, as Sentry does."""
    project_row = require_project(ctx, org, project)
    ids = parse_qs(req.environ.get("QUERY_STRING", "")).get("id", [])
    if ids:
        rows = [_issue(ctx, i) for i in ids]
    else:  # no ids: the issues the query selects (``status=`` too; default is:unresolved)
        text = req.query.get("query") or ""
        if req.query.get("status") in _STATUSES:
            text += f" is:{req.query['status']}"
        rows = insights.issues(
            ctx.store, project_row["id"], limit=1000, **parse_query(text.strip() or "is:unresolved")
        )
        if not rows:
            return json_response({})
    for row in rows:
        if row["project_id"] != project_row["id"]:
            raise HTTPError(404, f"issue {row['id']} is not an issue of project {project!r}")
    body = body_object(req)
    checked = _check_update(ctx, body)
    for row in rows:
        _apply_update(ctx, row, body, *checked)
    fresh = insights.group(ctx.store, str(rows[-1]["id"]))
    assert fresh is not None
    return json_response(
        {
            "status": issue_json(ctx, req, fresh)["status"],
            "statusDetails": _status_details(ctx, fresh),
        }
    )


def issue_events(ctx: Context, req: Request, issue_id: str, org: str = "") -> Response:
    row = _issue(ctx, issue_id, org)
    out = []
    for ev in insights.group_events(ctx.store, row["id"], _limit(req)):
        data = event_summary_json(ev)
        data["groupID"] = str(row["id"])
        out.append(data)
    return json_response(out)


def issue_suspects(ctx: Context, req: Request, issue_id: str, org: str = "") -> Response:
    row = _issue(ctx, issue_id, org)
    return json_response([commit_json(c) for c in insights.suspect_commits(ctx.store, row)])


def event_committers(ctx: Context, req: Request, org: str, project: str, event_id: str) -> Response:
    """Sentry's ``committers`` shape: suspect commits grouped by author."""
    project_row = require_project(ctx, org, project)
    ev = ctx.store.event(event_id, project_row["id"])
    if ev is None:
        raise HTTPError(404, f"event {event_id} does not exist")
    row = insights.group(ctx.store, str(ev["group_id"])) if ev["group_id"] else None
    if row is None:
        return json_response({"committers": []})
    by_author: Dict[Tuple[Any, Any], Dict[str, Any]] = {}
    for c in insights.suspect_commits(ctx.store, row):
        key = (c.get("author_email"), c.get("author_name"))
        entry = by_author.setdefault(
            key,
            {
                "author": {"name": c.get("author_name"), "email": c.get("author_email")},
                "commits": [],
            },
        )
        entry["commits"].append(commit_json(c))
    return json_response({"committers": list(by_author.values())})


def short_id_lookup(ctx: Context, req: Request, org: str, short_id: str) -> Response:
    row = _issue(ctx, short_id, org)
    data = issue_json(ctx, req, row)
    return json_response(
        {
            "organizationSlug": ctx.org,
            "projectSlug": data["project"]["slug"],
            "groupId": data["id"],
            "shortId": data["shortId"],
            "group": data,
        }
    )


def release_issues(ctx: Context, req: Request, org: str, version: str) -> Response:
    rel = require_release(ctx, org, version)
    report = insights.release_report(ctx.store, rel, req.query.get("environment") or None)
    return json_response(
        {
            "version": rel["version"],
            "newIssues": [issue_json(ctx, req, r) for r in report["new"]],
            "regressions": [issue_json(ctx, req, r) for r in report["regressed"]],
            "resolved": [issue_json(ctx, req, r) for r in report["resolved"]],
            "environments": [
                {
                    "environment": c["environment"] or None,
                    "events": c["count"],
                    "issues": c["issues"],
                }
                for c in report["counts"]
            ],
            "commitIssueRefs": [
                {
                    "commit": r["commit_key"],
                    "shortId": r["short_id"],
                    "outcome": r["outcome"],
                    "reason": r["reason"],
                }
                for r in report["refs"]
            ],
        }
    )


_O = r"/api/0/organizations/(?P<org>[^/]+)"
_P = r"/api/0/projects/(?P<org>[^/]+)/(?P<project>[^/]+)"
_I = r"/issues/(?P<issue_id>[^/]+)"

ROUTES = [
    ("GET", _P + r"/issues/", list_issues),
    ("PUT", _P + r"/issues/", bulk_update),
    ("GET", _O + r"/issues/", list_issues),
    ("GET", r"/api/0" + _I + r"/", get_issue),
    ("PUT", r"/api/0" + _I + r"/", update_issue),
    ("GET", _O + _I + r"/", get_issue),
    ("PUT", _O + _I + r"/", update_issue),
    ("GET", r"/api/0" + _I + r"/events/", issue_events),
    ("GET", _O + _I + r"/events/", issue_events),
    ("GET", r"/api/0" + _I + r"/suspect-commits/", issue_suspects),
    ("GET", _O + _I + r"/suspect-commits/", issue_suspects),
    ("GET", _P + r"/events/(?P<event_id>[^/]+)/committers/", event_committers),
    ("GET", _O + r"/shortids/(?P<short_id>[^/]+)/", short_id_lookup),
    ("GET", _O + r"/releases/(?P<version>[^/]+)/issues/", release_issues),
]
