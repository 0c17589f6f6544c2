"""Release endpoints: create, update (finalize, refs, commits), status, list, info, delete."""

from __future__ import annotations

from urllib.parse import quote

from releasetag.build.webapi.client import ApiClient, ApiError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple


def _q(value: str) -> str:
    return quote(value, safe="")


def release_path(org: str, version: Optional[str] = None) -> str:
    """``/organizations/{org}/releases/[{version}/]`` with both parts escaped."""
    path = f"/organizations/{_q(org)}/releases/"
    return path + f"{_q(version)}/" if version is not None else path


def _not_found(org: str, version: str) -> str:
    return f"release {version!r} not found in organization {org!r}"


def new_release(
    client: ApiClient,
    org: str,
    version: str,
    projects: Sequence[str],
    *,
    url: Optional[str] = None,
    date_started: Optional[str] = None,
    date_released: Optional[str] = None,
) -> Tuple[Dict[str, Any], bool]:
    """POST a new release; returns (release, created): 201 created, 208 already there."""
    body: Dict[str, Any] = {"version": version, "projects": list(projects)}
    if url is not None:
        body["url"] = url
    if date_started is not None:
        body["dateStarted"] = date_started
    if date_released is not None:
        body["dateReleased"] = date_released
    try:
        resp = client.request(
            "POST", release_path(org), json=body, not_found=f"organization {org!r} not found"
        )
    except ApiError as exc:
        if exc.status == 400 and "project" in (exc.detail or "").lower():
            names = ", ".join(repr(p) for p in projects)
            raise ApiError(
                f"unknown project {names} in organization {org!r}, or the token may "
                f"not use it (400; server said: {exc.detail})",
                exc.status,
                exc.detail,
            ) from None
        raise
    try:
        data = resp.json() if resp.content else {}
    except ValueError:
        data = {}
    return (data if isinstance(data, dict) else {}), resp.status_code != 208


def update_release(
    client: ApiClient, org: str, version: str, body: Dict[str, Any]
) -> Dict[str, Any]:
    """PUT fields of an existing release (dateReleased, refs, commits, projects...)."""
    return (
        client.json(
            "PUT", release_path(org, version), json=body, not_found=_not_found(org, version)
        )
        or {}
    )


def set_status(client: ApiClient, org: str, version: str, status: str) -> Dict[str, Any]:
    """Archive (``archived``) or restore (``open``) a release."""
    body = {"version": version, "projects": [], "status": status}
    return (
        client.json(
            "POST", release_path(org), json=body, not_found=f"organization {org!r} not found"
        )
        or {}
    )


def list_releases(client: ApiClient, org: str, project: Optional[str] = None) -> List[Any]:
    """The releases of a project (when given) or of the organization, newest first."""
    if project:
        return client.list_all(
            f"/projects/{_q(org)}/{_q(project)}/releases/",
            not_found=f"organization {org!r} or project {project!r} not found",
        )
    return client.list_all(release_path(org), not_found=f"organization {org!r} not found")


def get_release(client: ApiClient, org: str, version: str) -> Dict[str, Any]:
    return client.json("GET", release_path(org, version), not_found=_not_found(org, version))


def delete_release(client: ApiClient, org: str, version: str) -> None:
    client.request("DELETE", release_path(org, version), not_found=_not_found(org, version))


def release_commits(client: ApiClient, org: str, version: str) -> List[Any]:
    return client.list_all(
        release_path(org, version) + "commits/", not_found=_not_found(org, version)
    )


def previous_with_commits(client: ApiClient, org: str, version: str) -> Dict[str, Any]:
    """The previous release that has commits (``{}`` when there is none)."""
    data = client.json(
        "GET",
        release_path(org, version) + "previous-with-commits/",
        not_found=_not_found(org, version),
    )
    return data if isinstance(data, dict) else {}


def set_refs(
    client: ApiClient, org: str, version: str, refs: Sequence[Dict[str, Any]]
) -> Dict[str, Any]:
    """Associate repository refs (``{repository, commit, previousCommit}``); ``[]`` clears."""
    return update_release(client, org, version, {"refs": list(refs)})


def set_commits(
    client: ApiClient, org: str, version: str, commits: Sequence[Dict[str, Any]]
) -> Dict[str, Any]:
    """Associate commits read from the local repository."""
    return update_release(client, org, version, {"commits": list(commits)})
