"""Release health over the Web API: the Sessions API and the issue counts the health gate
uses. Only Sentry's public endpoints, so the same calls work against sentry.io, a
self-hosted Sentry and the local collector."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

from releasetag.build.webapi.client import ApiClient, ApiError
from releasetag.protocol import session_fields as wire
from releasetag.protocol.timefmt import to_wire

NO_SESSIONS_API = "the server does not provide session data"


def _q(value: str) -> str:
    return quote(value, safe="")


def _quoted(value: str) -> str:
    """A search value, quoted when it holds spaces or quotes."""
    if any(c in value for c in ' "'):
        return '"' + value.replace('"', '\\"') + '"'
    return value


def project_id(client: ApiClient, org: str, project: str) -> int:
    """The numeric id of a project slug (the Sessions API filters by id)."""
    data = client.json(
        "GET",
        f"/projects/{_q(org)}/{_q(project)}/",
        not_found=f"project {project!r} not found in organization {org!r}",
    )
    if not isinstance(data, dict) or not str(data.get("id", "")).isdigit():
        raise ApiError(f"the server's answer for project {project!r} has no numeric id")
    return int(data["id"])


def sessions(
    client: ApiClient,
    org: str,
    *,
    fields: Sequence[str] = (wire.FIELD_SESSIONS,),
    group_by: Sequence[str] = (),
    release: Optional[str] = None,
    environment: Optional[str] = None,
    project: Optional[int] = None,
    start: Optional[datetime] = None,
    end: Optional[datetime] = None,
    stats_period: Optional[str] = None,
    interval: str = "1h",
) -> Dict[str, Any]:
    """``GET /organizations/{org}/sessions/``; an ApiError saying the server has no session
    data when the endpoint does not exist there."""
    params: List[Any] = [("field", f) for f in fields] + [("groupBy", g) for g in group_by]
    params.append(("interval", interval))
    if start is not None:
        params += [("start", to_wire(start)), ("end", to_wire(end or datetime.now(start.tzinfo)))]
    else:
        params.append(("statsPeriod", stats_period or "24h"))
    if release is not None:
        params.append(("query", f"release:{_quoted(release)}"))
    if environment is not None:
        params.append(("environment", environment))
    if project is not None:
        params.append(("project", str(project)))
    path = f"/organizations/{_q(org)}/sessions/"
    try:
        data = client.json("GET", path, params=params)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(
                f"{NO_SESSIONS_API} (no Sessions API at {client.url_for(path)}: 404)", status=404
            ) from None
        raise
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ApiError(f"{NO_SESSIONS_API} (the answer of GET {path} has no groups)")
    return data


def totals(answer: Dict[str, Any]) -> Dict[str, Any]:
    """The totals of an ungrouped Sessions API answer (zeros when there is no group)."""
    groups = answer.get("groups") or []
    if not groups:
        return {}
    merged: Dict[str, Any] = {}
    for group in groups:
        for key, value in (group.get("totals") or {}).items():
            merged[key] = value
    return merged


def by(answer: Dict[str, Any], key: str) -> Dict[Any, Dict[str, Any]]:
    """The totals of an answer grouped by ``key``, per value."""
    return {
        (g.get("by") or {}).get(key): g.get("totals") or {}
        for g in answer.get("groups") or []
        if isinstance(g, dict)
    }


def count_issues(client: ApiClient, org: str, query: str, environment: Optional[str] = None) -> int:
    """How many issues of the organization match the search ``query``."""
    params: Dict[str, Any] = {"query": query}
    if environment is not None:
        params["environment"] = environment
    return len(client.list_all(f"/organizations/{_q(org)}/issues/", params=params))


def new_issues(client: ApiClient, org: str, release: str, environment: Optional[str]) -> int:
    """Issues first seen in ``release``."""
    return count_issues(client, org, f"first-release:{_quoted(release)}", environment)


def regressions(client: ApiClient, org: str, release: str, environment: Optional[str]) -> int:
    """Issues that came back (regressed) and have events in ``release``."""
    return count_issues(client, org, f"is:regressed release:{_quoted(release)}", environment)
